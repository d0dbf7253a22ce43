package localpage

import (
	"io/fs"
	"net/http"
	"path"
)

// contentTypes are the only kinds of file ServeFile serves, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// ServeFile writes the file name of fsys (an embedded page, script or
// style) with its content type; anything else, a name outside fsys or a
// missing file is 404.
func ServeFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}
