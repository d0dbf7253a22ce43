package replay

import (
	"image"

	"github.com/tether-support/tether/internal/screen"
)

// Image converts a BGRX frame to an opaque RGBA image (for PNG).
func Image(f *screen.Frame) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		src := f.Pix[y*f.Stride : y*f.Stride+f.Width*screen.BytesPerPixel]
		dst := img.Pix[y*img.Stride : y*img.Stride+f.Width*4]
		for i := 0; i < len(src); i += 4 {
			dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
		}
	}
	return img
}
