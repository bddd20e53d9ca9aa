package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestHandler_RoutesAndHeaders(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string
		wantBody           string
	}{
		{"index", http.MethodGet, "/", http.StatusOK, "text/html", `<script type="module" src="/js/app.js"></script>`},
		{"client route falls back to index", http.MethodGet, "/records/4bf92f35", http.StatusOK, "text/html", `<main id="app"`},
		{"module", http.MethodGet, "/js/app.js", http.StatusOK, "javascript", "import"},
		{"stylesheet", http.MethodGet, "/app.css", http.StatusOK, "text/css", "prefers-color-scheme: dark"},
		{"head", http.MethodHead, "/", http.StatusOK, "text/html", ""},
		{"writes are refused", http.MethodPost, "/", http.StatusMethodNotAllowed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tt.method, tt.path)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), tt.wantType) {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
		})
	}
}

// The CSP forbids inline script, inline styles and event-handler attributes, and stored
// prompts must never be parsed as markup. These checks keep the source honest about both.
func TestStatic_NoInlineCodeAndNoMarkupSinks(t *testing.T) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	sinks := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"]style['"]|DOMParser|createContextualFragment`)
	inlineHTML := regexp.MustCompile(`(?i)\son[a-z]+\s*=|\sstyle\s*=|<script>|<script\s+(?:type="module"\s*)?>|javascript:`)
	imports := regexp.MustCompile(`from '\./([a-z]+\.js)'`)
	n := 0
	err = fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		src := string(b)
		switch {
		case strings.HasSuffix(path, ".js"):
			n++
			if m := sinks.FindString(src); m != "" {
				t.Errorf("%s uses %s: build DOM nodes and set textContent instead", path, m)
			}
			for _, m := range imports.FindAllStringSubmatch(src, -1) {
				if _, err := fs.Stat(static, "js/"+m[1]); err != nil {
					t.Errorf("%s imports ./%s, which is not embedded", path, m[1])
				}
			}
		case strings.HasSuffix(path, ".html"):
			if m := inlineHTML.FindString(src); m != "" {
				t.Errorf("%s has inline code or style (%q), which the CSP blocks", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("found %d modules; the walk is not looking at the UI", n)
	}
}
