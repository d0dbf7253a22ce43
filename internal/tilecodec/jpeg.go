package tilecodec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	"github.com/tether-support/tether/internal/screen"
)

// jpegScratch holds the reusable buffers of JPEG tile encoding.
type jpegScratch struct {
	rgba  image.RGBA
	out   bytes.Buffer
	bytes []byte
}

// encode JPEG-encodes rect r of f at quality q into s.bytes.
func (s *jpegScratch) encode(f *screen.Frame, r screen.Rect, q int) error {
	n := r.W * r.H * 4
	if cap(s.rgba.Pix) < n {
		s.rgba.Pix = make([]byte, TileSize*TileSize*4)
	}
	s.rgba.Pix, s.rgba.Stride, s.rgba.Rect = s.rgba.Pix[:n], r.W*4, image.Rect(0, 0, r.W, r.H)
	for y := 0; y < r.H; y++ {
		src := f.Pix[(r.Y+y)*f.Stride+r.X*screen.BytesPerPixel:]
		dst := s.rgba.Pix[y*s.rgba.Stride : (y+1)*s.rgba.Stride]
		for x := 0; x < len(dst); x += 4 {
			dst[x], dst[x+1], dst[x+2], dst[x+3] = src[x+2], src[x+1], src[x], 0xff
		}
	}
	s.out.Reset()
	if err := jpeg.Encode(&s.out, &s.rgba, &jpeg.Options{Quality: q}); err != nil {
		return fmt.Errorf("tilecodec: jpeg: %w", err)
	}
	s.bytes = s.out.Bytes()
	if len(s.bytes) > 0xffff {
		return fmt.Errorf("tilecodec: jpeg tile of %d bytes", len(s.bytes))
	}
	return nil
}

// decodeJPEG decodes a JPEG tile into rect r of f after checking that its
// declared size is exactly the tile's.
func decodeJPEG(f *screen.Frame, r screen.Rect, b []byte) error {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("tilecodec: jpeg tile at %d,%d: %w", r.X, r.Y, err)
	}
	if cfg.Width != r.W || cfg.Height != r.H {
		return fmt.Errorf("tilecodec: jpeg tile at %d,%d is %dx%d, the tile is %dx%d", r.X, r.Y, cfg.Width, cfg.Height, r.W, r.H)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("tilecodec: jpeg tile at %d,%d: %w", r.X, r.Y, err)
	}
	if b := img.Bounds(); b.Dx() != r.W || b.Dy() != r.H {
		return fmt.Errorf("tilecodec: jpeg tile at %d,%d decoded to %dx%d", r.X, r.Y, b.Dx(), b.Dy())
	}
	drawImage(f, r, img)
	return nil
}

// drawImage writes img (whose size is r's) into rect r of f as BGRX.
func drawImage(f *screen.Frame, r screen.Rect, img image.Image) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < r.H; y++ {
			dst := f.Pix[(r.Y+y)*f.Stride+r.X*screen.BytesPerPixel:]
			for x := 0; x < r.W; x++ {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = cb, cg, cr, 0
			}
		}
	case *image.Gray:
		for y := 0; y < r.H; y++ {
			dst := f.Pix[(r.Y+y)*f.Stride+r.X*screen.BytesPerPixel:]
			src := m.Pix[y*m.Stride:]
			for x := 0; x < r.W; x++ {
				v := src[x]
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 0
			}
		}
	default:
		for y := 0; y < r.H; y++ {
			dst := f.Pix[(r.Y+y)*f.Stride+r.X*screen.BytesPerPixel:]
			for x := 0; x < r.W; x++ {
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = uint8(cb>>8), uint8(cg>>8), uint8(cr>>8), 0
			}
		}
	}
}
