package totp

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// quietZone is the light margin around the code, in modules. The standard
// asks for 4; 2 keeps the output compact and still scans from a screen.
const quietZone = 2

// QR renders url (an otpauth:// URL) as a QR code for a terminal, two
// modules per character cell using the Unicode half blocks ▀ ▄ █ and
// spaces, with a quiet zone, one line per two module rows, each line ending
// in a newline.
//
// Light modules are drawn as blocks and dark modules as spaces, which is
// correct on the usual dark-background terminal; on a light background the
// code appears inverted, which some scanners do not read.
func QR(url string) (string, error) {
	code, err := qr.Encode(url, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("totp: encode QR code: %w", err)
	}
	return render(code), nil
}

// render draws img, one module per pixel, as half blocks.
func render(img image.Image) string {
	n := img.Bounds().Dx()
	size := n + 2*quietZone
	light := func(x, y int) bool {
		x, y = x-quietZone, y-quietZone
		if x < 0 || y < 0 || x >= n || y >= n {
			return true
		}
		return !dark(img.At(x, y))
	}
	var b strings.Builder
	for y := 0; y < size; y += 2 {
		for x := 0; x < size; x++ {
			b.WriteRune(halfBlock(light(x, y), y+1 < size && light(x, y+1)))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// dark reports whether c is a dark module.
func dark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 128
}

// halfBlock returns the character that lights the top and bottom halves of a
// cell as given.
func halfBlock(top, bottom bool) rune {
	switch {
	case top && bottom:
		return '█'
	case top:
		return '▀'
	case bottom:
		return '▄'
	}
	return ' '
}
