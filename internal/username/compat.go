package username

import "unicode"

// compatRanges are code points whose NFKC form differs from themselves and
// that Canonical rejects rather than normalises. See the package
// documentation.
var compatRanges = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00AA, Hi: 0x00AA, Stride: 1}, // ª
		{Lo: 0x00B5, Hi: 0x00B5, Stride: 1}, // µ
		{Lo: 0x00BA, Hi: 0x00BA, Stride: 1}, // º
		{Lo: 0x0132, Hi: 0x0133, Stride: 1}, // Ĳ ĳ
		{Lo: 0x013F, Hi: 0x0140, Stride: 1}, // Ŀ ŀ
		{Lo: 0x0149, Hi: 0x0149, Stride: 1}, // ŉ
		{Lo: 0x017F, Hi: 0x017F, Stride: 1}, // ſ
		{Lo: 0x01C4, Hi: 0x01CC, Stride: 1}, // Ǆ … ǌ
		{Lo: 0x01F1, Hi: 0x01F3, Stride: 1}, // Ǳ ǲ ǳ
		{Lo: 0x02B0, Hi: 0x02FF, Stride: 1}, // spacing modifier letters
		{Lo: 0x037A, Hi: 0x037A, Stride: 1}, // ͺ
		{Lo: 0x03D0, Hi: 0x03D6, Stride: 1}, // ϐ ϑ ϒ ϓ ϔ ϕ ϖ
		{Lo: 0x03F0, Hi: 0x03F2, Stride: 1}, // ϰ ϱ ϲ
		{Lo: 0x03F4, Hi: 0x03F5, Stride: 1}, // ϴ ϵ
		{Lo: 0x03F9, Hi: 0x03F9, Stride: 1}, // Ϲ
		{Lo: 0x0587, Hi: 0x0587, Stride: 1}, // և
		{Lo: 0x0675, Hi: 0x0678, Stride: 1}, // Arabic high hamza ligatures
		{Lo: 0x0E33, Hi: 0x0E33, Stride: 1}, // Thai sara am
		{Lo: 0x0EB3, Hi: 0x0EB3, Stride: 1}, // Lao am
		{Lo: 0x0EDC, Hi: 0x0EDD, Stride: 1}, // Lao ligatures
		{Lo: 0x0F0C, Hi: 0x0F0C, Stride: 1}, // Tibetan
		{Lo: 0x10FC, Hi: 0x10FC, Stride: 1}, // Georgian modifier
		{Lo: 0x1E9A, Hi: 0x1E9B, Stride: 1}, // ẚ ẛ
		{Lo: 0x1FBD, Hi: 0x1FC1, Stride: 1}, // Greek spacing marks
		{Lo: 0x1FCD, Hi: 0x1FCF, Stride: 1},
		{Lo: 0x1FDD, Hi: 0x1FDF, Stride: 1},
		{Lo: 0x1FED, Hi: 0x1FEF, Stride: 1},
		{Lo: 0x1FFD, Hi: 0x1FFE, Stride: 1},
		{Lo: 0x2070, Hi: 0x209F, Stride: 1}, // superscripts and subscripts
		{Lo: 0x2100, Hi: 0x218F, Stride: 1}, // letterlike symbols, number forms
		{Lo: 0x2460, Hi: 0x24FF, Stride: 1}, // enclosed alphanumerics
		{Lo: 0x2C7C, Hi: 0x2C7D, Stride: 1}, // modifier letters
		{Lo: 0x2D6F, Hi: 0x2D6F, Stride: 1}, // Tifinagh modifier
		{Lo: 0x2E80, Hi: 0x2FDF, Stride: 1}, // CJK and Kangxi radicals
		{Lo: 0x3131, Hi: 0x318E, Stride: 1}, // Hangul compatibility jamo
		{Lo: 0x3192, Hi: 0x319F, Stride: 1}, // Kanbun
		{Lo: 0x3200, Hi: 0x33FF, Stride: 1}, // enclosed CJK, CJK compatibility
		{Lo: 0xA69C, Hi: 0xA69D, Stride: 1}, // Cyrillic modifiers
		{Lo: 0xA770, Hi: 0xA770, Stride: 1},
		{Lo: 0xA7F2, Hi: 0xA7F9, Stride: 1}, // Latin modifier letters
		{Lo: 0xAB5C, Hi: 0xAB5F, Stride: 1},
		{Lo: 0xAB69, Hi: 0xAB69, Stride: 1},
		{Lo: 0xF900, Hi: 0xFAFF, Stride: 1}, // CJK compatibility ideographs
		{Lo: 0xFB00, Hi: 0xFDFF, Stride: 1}, // presentation forms
		{Lo: 0xFE10, Hi: 0xFE1F, Stride: 1}, // vertical forms
		{Lo: 0xFE30, Hi: 0xFE6F, Stride: 1}, // compatibility and small forms
		{Lo: 0xFE70, Hi: 0xFEFF, Stride: 1}, // Arabic presentation forms-B
		{Lo: 0xFF00, Hi: 0xFF00, Stride: 1},
		{Lo: 0xFF5F, Hi: 0xFFEF, Stride: 1}, // halfwidth forms
	},
	R32: []unicode.Range32{
		{Lo: 0x10780, Hi: 0x107BF, Stride: 1}, // Latin extended-F
		{Lo: 0x1D400, Hi: 0x1D7FF, Stride: 1}, // mathematical alphanumerics
		{Lo: 0x1E030, Hi: 0x1E08F, Stride: 1}, // Cyrillic extended-D
		{Lo: 0x1EE00, Hi: 0x1EEFF, Stride: 1}, // Arabic mathematical
		{Lo: 0x1F100, Hi: 0x1F2FF, Stride: 1}, // enclosed supplements
		{Lo: 0x1FBF0, Hi: 0x1FBF9, Stride: 1}, // segmented digits
		{Lo: 0x2F800, Hi: 0x2FA1F, Stride: 1}, // CJK compatibility supplement
	},
}

// allowedModifiers are modifier letters (category Lm) with no compatibility
// decomposition that scripts need, such as the Japanese long vowel mark.
var allowedModifiers = map[rune]bool{
	0x0E46: true, // Thai maiyamok
	0x0EC6: true, // Lao ko la
	0x3005: true, // 々
	0x3031: true, 0x3032: true, 0x3033: true, 0x3034: true, 0x3035: true,
	0x309D: true, 0x309E: true, // ゝ ゞ
	0x30FC: true, 0x30FD: true, 0x30FE: true, // ー ヽ ヾ
}

// compatibility reports whether r is a compatibility character or a modifier
// letter that Canonical rejects.
func compatibility(r rune) bool {
	if unicode.Is(compatRanges, r) {
		return true
	}
	return unicode.Is(unicode.Lm, r) && !allowedModifiers[r]
}
