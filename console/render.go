package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// parsePages parses each page's template with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		// count shows a count, or "many" for one the console gave up on
		// (unknown).
		"count": func(n int) string {
			if n < 0 {
				return "many"
			}
			return strconv.Itoa(n)
		},
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		// kind is the console's path for the resource a SCIM path names.
		"kind": func(path string) string {
			if strings.Contains(path, "/Groups") {
				return "groups"
			}
			return "users"
		},
		"ms": func(d time.Duration) string { return strings.TrimSuffix(d.Round(10*time.Microsecond).String(), "0s") },
		"pretty": func(raw []byte) string {
			var buf bytes.Buffer
			if json.Indent(&buf, raw, "", "  ") != nil {
				return string(raw)
			}
			return buf.String()
		},
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "setup", "error", "directories", "directory", "users", "user", "groups", "group", "requests", "live", "webhook"} {
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

// render writes a page: its template with data, and for every page the
// CSP nonce, the admin and the session's CSRF token.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, page string, s *session, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Nonce"] = nonceOf(r)
	data["Page"] = page
	data["Base"] = BasePath
	if s != nil {
		data["Admin"] = s.Admin.Name
		data["CSRF"] = s.csrf()
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		c.Logger.ErrorContext(r.Context(), "console template failed", "page", page, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
