package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed deskweb/viewer.html
var deskWebFiles embed.FS

// noVNCDir is where Debian's novnc package keeps noVNC.
const noVNCDir = "/usr/share/novnc"

// deskWeb is the driver's web server on loopback: the page the page-scroll
// workload shows, its photos, noVNC and the instrumented viewer page, and
// the endpoint where that page reports what it drew.
type deskWeb struct {
	url  string
	srv  *http.Server
	imgs [][]byte

	mu      sync.Mutex
	reports map[string]*pageReport // by run
}

// pageReport is what a viewer page reported so far.
type pageReport struct {
	status string
	fbu    int
	obs    []markSeen
}

// markSeen is one marker code seen drawn at a time.
type markSeen struct {
	code int
	at   time.Time
}

func startDeskWeb() (*deskWeb, error) {
	w := &deskWeb{reports: map[string]*pageReport{}}
	for i := range 6 {
		w.imgs = append(w.imgs, photo(640, 360, i))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/page.html", w.page)
	mux.HandleFunc("/img/", w.img)
	mux.HandleFunc("/viewer.html", func(rw http.ResponseWriter, r *http.Request) {
		b, _ := deskWebFiles.ReadFile("deskweb/viewer.html")
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(b)
	})
	mux.Handle("/novnc/", http.StripPrefix("/novnc/", http.FileServer(http.Dir(noVNCDir))))
	mux.HandleFunc("/report", w.report)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w.url = "http://" + ln.Addr().String()
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go w.srv.Serve(ln)
	return w, nil
}

func (w *deskWeb) close() { w.srv.Close() }

// report takes one batch from a viewer page.
func (w *deskWeb) report(rw http.ResponseWriter, r *http.Request) {
	var in struct {
		Run    string       `json:"run"`
		Status string       `json:"status"`
		FBU    int          `json:"fbu"`
		Obs    [][2]float64 `json:"obs"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	rep := w.reports[in.Run]
	if rep == nil {
		rep = &pageReport{}
		w.reports[in.Run] = rep
	}
	rep.status, rep.fbu = in.Status, in.FBU
	for _, o := range in.Obs {
		rep.obs = append(rep.obs, markSeen{code: int(o[0]), at: time.UnixMicro(int64(o[1] * 1000))})
	}
	w.mu.Unlock()
}

// take returns the run's status and update count, and the observations
// since the last take.
func (w *deskWeb) take(run string) (status string, fbu int, obs []markSeen) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rep := w.reports[run]
	if rep == nil {
		return "", 0, nil
	}
	obs, rep.obs = rep.obs, nil
	return rep.status, rep.fbu, obs
}

func (w *deskWeb) img(rw http.ResponseWriter, r *http.Request) {
	var i int
	fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/img/"), "%d.jpg", &i)
	rw.Header().Set("Content-Type", "image/jpeg")
	rw.Write(w.imgs[(i%len(w.imgs)+len(w.imgs))%len(w.imgs)])
}

// page is a long article: headings, paragraphs, photos, code blocks, which
// scrolls itself 6 px per animation frame and starts over at the end.
func (w *deskWeb) page(rw http.ResponseWriter, r *http.Request) {
	rnd := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("the clinic printer queue shows an error after the update please restart the spooler " +
		"service and check the certificate prompt in the browser before you sign in to the record system again " +
		"nurses report that the frozen window returns after a minute while the scanner keeps working")
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><style>
body{font:16px/1.5 sans-serif;margin:0 auto;max-width:1400px;padding:20px;background:#fafafa;color:#222}
img{float:right;margin:0 0 12px 24px;width:640px;height:360px}
pre{background:#272822;color:#f8f8f2;padding:12px;font:13px/1.4 monospace}
h2{color:#1a4d8f;clear:both}
</style></head><body>`)
	for s := range 40 {
		fmt.Fprintf(&b, "<h2>Section %d: the record system</h2>", s+1)
		if s%2 == 0 {
			fmt.Fprintf(&b, `<img src="/img/%d.jpg" alt="">`, s/2)
		}
		for range 3 {
			b.WriteString("<p>")
			for range 60 + rnd.IntN(40) {
				b.WriteString(words[rnd.IntN(len(words))] + " ")
			}
			b.WriteString("</p>")
		}
		if s%3 == 0 {
			b.WriteString("<pre>")
			b.WriteString(logText(8))
			b.WriteString("</pre>")
		}
	}
	b.WriteString(`<script>
function step(){const e=document.scrollingElement;if(e.scrollTop+innerHeight>=e.scrollHeight-2)e.scrollTop=0;else e.scrollTop+=6;requestAnimationFrame(step)}
requestAnimationFrame(step)</script></body></html>`)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(rw, b.String())
}

// photo returns a w×h JPEG that looks like a photograph to a codec:
// smooth colour fields, detail and noise.
func photo(w, h, seed int) []byte {
	rnd := rand.New(rand.NewPCG(uint64(seed), 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fx, fy := 2+rnd.Float64()*4, 2+rnd.Float64()*4
	for y := range h {
		for x := range w {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			n := rnd.Float64()*16 - 8
			c := func(ph float64) uint8 {
				return uint8(max(0, min(255, 128+90*math.Sin(fx*u*math.Pi+ph)*math.Cos(fy*v*math.Pi-ph)+
					25*math.Sin(40*u*v+ph)+n)))
			}
			img.Set(x, y, color.RGBA{c(0), c(2.1), c(4.2), 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}
