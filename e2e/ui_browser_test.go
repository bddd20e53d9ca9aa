package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var uiScreenshotDir = flag.String("ui.screenshots", "", "directory to save UI screenshots into (e.g. ../docs/screenshots); empty: none")

// uiChromePath finds Chromium: $CHROME_PATH, then the usual install locations. A missing
// browser fails the test; .ci/install-chromium.sh installs one.
func uiChromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v", p, err)
		}
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the UI tests: run .ci/install-chromium.sh (Debian: apt-get install chromium) or set CHROME_PATH")
	return ""
}

// uiBrowser is one headless Chromium tab. It records every uncaught exception, console
// error and Content-Security-Policy violation, so a test can assert the page stayed clean.
type uiBrowser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newUIBrowser(t *testing.T, width, height int) *uiBrowser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(uiChromePath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	base, cancelTimeout := context.WithTimeout(context.Background(), 4*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	b := &uiBrowser{t: t}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
	})
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	b.do(chromedp.EmulateViewport(int64(width), int64(height)))
	return b
}

func (b *uiBrowser) listen(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = "uncaught exception: " + d.Text
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			p = "console.error: " + strings.Join(parts, " ")
		}
	case *cdplog.EventEntryAdded:
		// Refused inline scripts, styles or handlers show up as security entries.
		if ev.Entry.Source == cdplog.EntrySourceSecurity || strings.Contains(ev.Entry.Text, "Content Security Policy") {
			p = "CSP: " + ev.Entry.Text
		}
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

// checkClean fails the test if the page threw, logged an error or violated the CSP.
func (b *uiBrowser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("page problem: %s", p)
	}
	b.problems = nil
}

// uiStepTimeout bounds each browser step, so a broken page fails fast instead of hanging.
const uiStepTimeout = 20 * time.Second

func (b *uiBrowser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\npage text: %s", err, b.pageText())
	}
}

// jsEval runs JavaScript and decodes its result.
func jsEval[T any](b *uiBrowser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls until the JavaScript expression is truthy.
func (b *uiBrowser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiStepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(25*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s (%s): %v\npage text: %s", what, expr, err, b.pageText())
	}
}

func (b *uiBrowser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func (b *uiBrowser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// goHash switches the single-page app to another route without reloading.
func (b *uiBrowser) goHash(hash string) {
	b.t.Helper()
	jsEval[chromedp.Void](b, fmt.Sprintf(`location.hash = %q`, hash))
}

func (b *uiBrowser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

func (b *uiBrowser) key(keys string) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(keys))
}

func (b *uiBrowser) darkMode(on bool) {
	b.t.Helper()
	v := "light"
	if on {
		v = "dark"
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
	}); err != nil {
		b.t.Fatalf("emulate %s mode: %v", v, err)
	}
}

// screenshot saves the viewport as <dir>/<name>.png when -ui.screenshots is set.
func (b *uiBrowser) screenshot(name string) {
	b.t.Helper()
	if *uiScreenshotDir == "" {
		return
	}
	// Transient toasts would cover the page; then let charts and the virtual lists settle.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelectorAll('.toast').forEach(t => t.remove()),
		new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("wait for a frame: %v", err)
	}
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(*uiScreenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*uiScreenshotDir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
