package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"time"

	"github.com/jezek/xgb/xproto"
)

// The synthetic scroll: a screen-sized window of this driver's own that
// shows a tall pre-drawn page (photos and lines of text in the core
// "fixed" font) moved up 8 px every 1/60 s by CopyArea — an overload no
// viewer keeps up with, whatever the machine's load, unlike a browser that
// may itself render slowly.

// synthPageH is the pre-drawn page's height.
const synthPageH = 3 * deskH

// synthScroll is the running window.
type synthScroll struct {
	w    *xwin
	pix  xproto.Pixmap
	stop chan struct{}
	done chan struct{}
}

// setupSynth draws the page and starts scrolling it.
func setupSynth(ctx context.Context, e *deskEnv) (func(), error) {
	w, err := newXWin(e.display, 0, 0, deskW, deskH, 0xffffff)
	if err != nil {
		return nil, err
	}
	s := &synthScroll{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.drawPage(e.web.imgs); err != nil {
		w.close()
		return nil, err
	}
	go s.run()
	return func() {
		close(s.stop)
		<-s.done
		w.close()
	}, nil
}

// drawPage fills the pixmap: white, photos down alternate sides, text
// lines beside them.
func (s *synthScroll) drawPage(photos [][]byte) error {
	c := s.w.conn
	scr := xproto.Setup(c).DefaultScreen(c)
	var err error
	if s.pix, err = xproto.NewPixmapId(c); err != nil {
		return err
	}
	if err := xproto.CreatePixmapChecked(c, scr.RootDepth, s.pix, xproto.Drawable(s.w.win), deskW, synthPageH).Check(); err != nil {
		return fmt.Errorf("synthetic page pixmap: %w", err)
	}
	xproto.ChangeGC(c, s.w.gc, xproto.GcForeground, []uint32{0xfafafa})
	xproto.PolyFillRectangle(c, xproto.Drawable(s.pix), s.w.gc, []xproto.Rectangle{{Width: deskW, Height: synthPageH}})
	fid, err := xproto.NewFontId(c)
	if err == nil {
		err = xproto.OpenFontChecked(c, fid, uint16(len("fixed")), "fixed").Check()
	}
	if err != nil {
		return fmt.Errorf("synthetic page font: %w", err)
	}
	xproto.ChangeGC(c, s.w.gc, xproto.GcFont|xproto.GcForeground|xproto.GcBackground, []uint32{0x202020, 0xfafafa, uint32(fid)}) // in bit order
	lines := bytes.Split([]byte(logText(400)), []byte("\n"))
	li := 0
	for y, i := 40, 0; y+360 < synthPageH; y, i = y+420, i+1 {
		px := 100 + (i%2)*1180 // photo left or right
		if err := s.putJPEG(photos[i%len(photos)], px, y); err != nil {
			return err
		}
		tx := 800 - (i%2)*700
		for ty := y + 14; ty < y+400; ty, li = ty+15, li+1 {
			l := lines[li%len(lines)]
			xproto.ImageText8(c, byte(min(len(l), 160)), xproto.Drawable(s.pix), s.w.gc, int16(tx), int16(ty), string(l[:min(len(l), 160)]))
		}
	}
	return s.w.sync()
}

// putJPEG decodes a photo and puts it into the pixmap at x, y, in bands
// that fit the core protocol's request size.
func (s *synthScroll) putJPEG(b []byte, x, y int) error {
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	r := img.Bounds()
	rgba := image.NewRGBA(r)
	draw.Draw(rgba, r, img, r.Min, draw.Src)
	scr := xproto.Setup(s.w.conn).DefaultScreen(s.w.conn)
	band := max(1, 200000/(4*r.Dx()))
	for y0 := 0; y0 < r.Dy(); y0 += band {
		h := min(band, r.Dy()-y0)
		data := make([]byte, 0, 4*r.Dx()*h)
		for yy := y0; yy < y0+h; yy++ {
			row := rgba.Pix[yy*rgba.Stride : yy*rgba.Stride+4*r.Dx()]
			for i := 0; i < len(row); i += 4 {
				data = append(data, row[i+2], row[i+1], row[i], 0) // BGRX
			}
		}
		xproto.PutImage(s.w.conn, xproto.ImageFormatZPixmap, xproto.Drawable(s.pix), s.w.gc,
			uint16(r.Dx()), uint16(h), int16(x), int16(y+y0), 0, scr.RootDepth, data)
	}
	return nil
}

// synthMax bounds a synthetic scroll's run, should its stop never come.
const synthMax = 30 * time.Minute

// run copies the page into the window 60 times a second, 8 px further
// down each time, until stopped (or synthMax passed).
func (s *synthScroll) run() {
	defer close(s.done)
	t := time.NewTicker(time.Second / 60)
	defer t.Stop()
	end := time.Now().Add(synthMax)
	for off := 0; time.Now().Before(end); off = (off + 8) % (synthPageH - deskH) {
		xproto.CopyArea(s.w.conn, xproto.Drawable(s.pix), xproto.Drawable(s.w.win), s.w.gc, 0, int16(off), 0, 0, deskW, deskH)
		if s.w.sync() != nil {
			return
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}
