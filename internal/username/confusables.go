package username

// confusables maps a character to the prototype it is visually confusable
// with, for the characters a username can hold.
//
// Source: the "MA" mappings of Unicode Technical Standard #39,
// confusables.txt (https://www.unicode.org/Public/security/latest/confusables.txt,
// version 16.0.0), copied by hand for the characters that matter to
// Tether's usernames: Cyrillic, Greek and Armenian letters (both cases) whose
// prototype is a basic Latin letter or digit, Latin letters outside ASCII
// with an ASCII prototype, ASCII digits and letters that the standard maps
// to another ASCII character (0 → O, 1 → l, I → l, m → rn), and the
// zeros and ones of a few other decimal systems. It is a subset: sources
// whose prototype is not plain ASCII (such as Cyrillic в → ʙ) are left out,
// and characters Canonical rejects (fullwidth forms are folded before,
// mathematical alphanumerics and other compatibility characters refused)
// need no entry.
//
// The entries marked "NFD" are not in confusables.txt: the standard
// decomposes (NFD) before mapping, which this package cannot do without
// golang.org/x/text, so precomposed Cyrillic and Greek letters whose
// decomposition is a confusable base letter plus a mark are mapped to the
// precomposed Latin letter with the same mark instead.
var confusables = map[rune]string{
	// ASCII (the standard maps these within ASCII).
	'0': "O", '1': "l", 'I': "l", 'm': "rn",

	// Latin outside ASCII.
	'ı': "i", 'ɑ': "a", 'ɡ': "g", 'ɩ': "i", 'ɪ': "i", 'ĸ': "k", 'ƽ': "s",
	'ʋ': "u", 'ǀ': "l", 'Ɩ': "l", 'ᴄ': "c", 'ᴏ': "o", 'ᴑ': "o", 'ᴠ': "v",
	'ᴜ': "u", 'ᴛ': "t", 'ᴋ': "k", 'ᴍ': "rn", 'ʍ': "rn", 'ꜱ': "s",
	'Ƽ': "5", 'Ʒ': "3", 'Ȝ': "3", 'ȣ': "8", 'Ȣ': "8", 'Ƨ': "2",

	// Cyrillic, small letters.
	'а': "a", 'е': "e", 'о': "o", 'р': "p", 'с': "c", 'у': "y", 'х': "x",
	'ѕ': "s", 'і': "i", 'ј': "j", 'һ': "h", 'ԁ': "d", 'ԛ': "q", 'ԝ': "w",
	'ӏ': "i", 'м': "rn", 'п': "n", 'г': "r", 'т': "t", 'к': "k", 'ц': "u",
	'б': "6", 'ѵ': "v", 'ҽ': "e", 'ꙇ': "i",
	// Cyrillic, capital letters.
	'А': "A", 'В': "B", 'Е': "E", 'К': "K", 'М': "M", 'Н': "H", 'О': "O",
	'Р': "P", 'С': "C", 'Т': "T", 'Х': "X", 'У': "Y", 'Ѕ': "S", 'І': "l",
	'Ј': "J", 'Ӏ': "l", 'З': "3", 'Ӡ': "3", 'Ь': "b", 'Ԍ': "G", 'Ԛ': "Q",
	'Ԝ': "W", 'Ѵ': "V",
	// Cyrillic precomposed (NFD).
	'ё': "ë", 'Ё': "Ë", 'ї': "ï", 'Ї': "Ï", 'ӧ': "ö", 'Ӧ': "Ö", 'ӓ': "ä",
	'Ӓ': "Ä", 'ў': "ŭ", 'й': "ĭ",

	// Greek, small letters.
	'α': "a", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'σ': "o",
	'τ': "t", 'υ': "u", 'π': "n", 'γ': "y",
	// Greek, capital letters.
	'Α': "A", 'Β': "B", 'Ε': "E", 'Ζ': "Z", 'Η': "H", 'Ι': "l", 'Κ': "K",
	'Μ': "M", 'Ν': "N", 'Ο': "O", 'Ρ': "P", 'Τ': "T", 'Υ': "Y", 'Χ': "X",
	// Greek precomposed (NFD).
	'ό': "ó", 'Ό': "Ó", 'ί': "í", 'ϊ': "ï", 'ύ': "ú", 'ϋ': "ü",

	// Armenian.
	'օ': "o", 'Օ': "O", 'ս': "u", 'Ս': "U", 'հ': "h", 'ո': "n", 'ռ': "n",
	'ց': "g", 'զ': "q", 'գ': "q", 'Տ': "S",

	// Digits of other decimal systems.
	'٥': "o", '۵': "o", '०': "o", '০': "O", '୦': "O", '١': "l", '۱': "l",
	'٧': "V", '۷': "V",
}
