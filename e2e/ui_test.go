package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// uiRowsJS counts the record rows in the table.
const uiRowsJS = `document.querySelectorAll('#records-table tbody tr.row').length`

// TestUI_RecordsAndDetail drives the embedded UI of a real collector in headless Chromium:
// the records table (paging, search, filters, columns, keyboard), the record detail (span
// tree, conversation, timeline, flags, cost), XSS payloads staying inert, and a 5,000-span
// trace staying usable.
func TestUI_RecordsAndDetail(t *testing.T) {
	c := newCollector(t)
	d := seedUIData(t, c)
	b := newUIBrowser(t, 1280, 900)
	base := "http://" + c.apiAddr
	// The key prompt has its own test; here the key is already in the browser.
	b.open(base + "/#/setup")
	jsEval[chromedp.Void](b, fmt.Sprintf(`localStorage.setItem('tracehound.apiKey', %q)`, c.key))

	t.Run("records load fast with the default columns", func(t *testing.T) {
		b.t = t
		// The best of up to five loads, so a busy CI machine does not fail the budget; a page
		// that is slow every time still does.
		render, load, wall := math.Inf(1), math.Inf(1), time.Duration(math.MaxInt64)
		for i := 0; i < 5 && (render > 300 || load > 800); i++ {
			start := time.Now()
			b.open(fmt.Sprintf("%s/?load=%d#/records", base, i)) // a new URL: a full page load each time
			b.waitJS("the first page of records", uiRowsJS+` === 100`)
			wall = min(wall, time.Since(start))
			load = min(load, jsEval[float64](b, `performance.getEntriesByName('records:load').slice(-1)[0].duration`))
			render = min(render, jsEval[float64](b, `performance.getEntriesByName('records:render').slice(-1)[0].duration`))
		}
		t.Logf("records page: 100 rows rendered in %.0f ms (fetch+render %.0f ms, navigation to rows %v)", render, load, wall)
		if render > 300 || load > 800 {
			t.Errorf("100 rows took %.0f ms to render and %.0f ms to fetch and render; budget 300 ms and 800 ms", render, load)
		}
		cols := jsEval[[]string](b, `[...document.querySelectorAll('#records-table thead th[data-col]')].map(th => th.dataset.col)`)
		want := "status start input output source trace_id model tokens cost duration flags scores"
		if strings.Join(cols, " ") != want {
			t.Errorf("default columns %v, want %s", cols, want)
		}
		// The newest record is the agent trace; its row shows its data.
		first := jsEval[string](b, `document.querySelector('#records-table tbody tr.row').innerText`)
		for _, s := range []string{"What is the capital of France?", "The capital of France is Paris.", "gpt-4o-mini", "otlp"} {
			if !strings.Contains(first, s) {
				t.Errorf("first row %q lacks %q", first, s)
			}
		}
		b.screenshot("records")
	})

	t.Run("infinite scroll loads the next page", func(t *testing.T) {
		b.t = t
		jsEval[chromedp.Void](b, `window.scrollTo(0, document.body.scrollHeight)`)
		b.waitJS("all records", fmt.Sprintf(`%s === %d`, uiRowsJS, d.total))
		if n := jsEval[int](b, `new Set([...document.querySelectorAll('#records-table tbody tr.row')].map(r => r.dataset.id)).size`); n != d.total {
			t.Errorf("%d distinct rows, want %d", n, d.total)
		}
		jsEval[chromedp.Void](b, `window.scrollTo(0, 0)`)
	})

	t.Run("search highlights matches", func(t *testing.T) {
		b.t = t
		b.do(chromedp.SendKeys(chromedp.ID("records-search"), "capital France"))
		b.waitJS("one search hit", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tbody tr.row').dataset.id === %q`, uiRowsJS, d.capital))
		marks := jsEval[[]string](b, `[...document.querySelectorAll('#records-table tbody mark')].map(m => m.textContent)`)
		if !uiContains(marks, "capital") || !uiContains(marks, "France") {
			t.Errorf("highlighted %v, want capital and France", marks)
		}
		if h := jsEval[string](b, `location.hash`); !strings.Contains(h, "q=capital+France") {
			t.Errorf("search not kept in the URL: %s", h)
		}
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('records-search'); s.value = ''; s.dispatchEvent(new Event('input')); })()`)
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)
	})

	t.Run("filters by status and run", func(t *testing.T) {
		b.t = t
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = 'error'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("only failed records", fmt.Sprintf(`%s === %d && [...document.querySelectorAll('#records-table tbody tr.row')].every(r => r.classList.contains('status-error'))`, uiRowsJS, d.errors))
		if !jsEval[bool](b, fmt.Sprintf(`!!document.querySelector('#records-table tr.row[data-id=%q]')`, d.failed)) {
			t.Error("the failed agent trace is not among the error records")
		}
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)

		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-source'); s.value = 'proxy'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the proxied record", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tbody tr.row').dataset.id === %q`, uiRowsJS, d.proxied))
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-source'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)

		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-run_id'); s.value = 'batch-job-123'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the run's two records", uiRowsJS+` === 2`)
		if chip := jsEval[string](b, `document.querySelector('.active-filters').innerText`); !strings.Contains(chip, "run.id") || !strings.Contains(chip, "batch-job-123") {
			t.Errorf("active filter chips %q", chip)
		}
		b.click(".active-filters .filter-chip button")
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)

		// Typing a filter and tabbing on applies it and leaves the focus in the next field.
		b.click("#f-trace_id")
		b.do(chromedp.SendKeys(chromedp.ID("f-trace_id"), d.failed))
		b.key(kb.Tab)
		b.waitJS("the trace filter", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tbody tr.row').dataset.id === %q`, uiRowsJS, d.failed))
		if id := jsEval[string](b, `document.activeElement.id`); id != "f-run_id" {
			t.Errorf("focus after Tab is on %q, want the run.id field", id)
		}
		b.click(".active-filters .filter-chip button")
		b.waitJS("the unfiltered list", uiRowsJS+` === 100 && document.getElementById('f-trace_id').value === ''`)

		jsEval[chromedp.Void](b, `(() => { const k = document.getElementById('f-meta-key'), v = document.getElementById('f-meta-value'); k.value = 'workflow'; v.value = 'capital_quiz'; v.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the metadata match", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tbody tr.row').dataset.id === %q`, uiRowsJS, d.capital))
		b.click(".active-filters .filter-chip button")
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)
	})

	t.Run("custom time range", func(t *testing.T) {
		b.t = t
		set := func(id, v string) {
			jsEval[chromedp.Void](b, fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event('change')); })()`, id, v))
		}
		set("f-range", "custom")
		b.waitJS("the custom range inputs", `!!document.getElementById('f-from') && !!document.getElementById('f-to')`)
		// datetime-local is in the browser's zone, which is this process's zone.
		set("f-from", d.newest.Add(-7*time.Minute).Local().Format("2006-01-02T15:04:05"))
		b.waitJS("the custom range inputs", `!!document.getElementById('f-to')`)
		set("f-to", d.newest.Add(-3*time.Minute).Local().Format("2006-01-02T15:04:05"))
		// Started 4 and 6 minutes before the newest: the flagged and the XSS trace.
		b.waitJS("the records in the window", fmt.Sprintf(`%s === 2 && [...document.querySelectorAll('#records-table tbody tr.row')].map(r => r.dataset.id).join(' ') === %q`, uiRowsJS, d.flagged+" "+d.xss))
		set("f-range", "")
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)
	})

	t.Run("JSONL export of the filtered records", func(t *testing.T) {
		b.t = t
		// Keep the downloaded blobs where the test can read them.
		jsEval[chromedp.Void](b, `(() => { window.__blobs = []; const orig = URL.createObjectURL; URL.createObjectURL = (blob) => { window.__blobs.push(blob); return orig(blob); }; })()`)
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = 'error'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("only failed records", fmt.Sprintf(`%s === %d`, uiRowsJS, d.errors))
		b.click("#export-all")
		b.waitJS("the export", `window.__blobs.length === 1`)
		text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.__blobs[0].text()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if len(lines) != d.errors {
			t.Fatalf("%d JSONL lines, want %d:\n%s", len(lines), d.errors, text)
		}
		for _, l := range lines {
			var tc struct {
				Input        any `json:"input"`
				SourceRecord struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"source_record"`
			}
			if err := json.Unmarshal([]byte(l), &tc); err != nil || tc.SourceRecord.Status != "error" || tc.Input == nil {
				t.Errorf("line %s: %v %+v", l, err, tc)
			}
		}
		// A selection exports the same way, record by record.
		b.click(fmt.Sprintf(`#records-table tr.row[data-id=%q] .sel`, d.failed))
		b.click("#export-selection")
		b.waitJS("the selection export", `window.__blobs.length === 2`)
		sel, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.__blobs[1].text()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.TrimSpace(sel), "\n") + 1; n != 1 || !strings.Contains(sel, d.failed) {
			t.Errorf("selection export %q, want one line for %s", sel, d.failed)
		}
		b.click("#clear-selection")
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)
	})

	t.Run("a flag chip shows every record with that flag", func(t *testing.T) {
		b.t = t
		var l struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
		}
		c.apiGet("/api/v1/records?flag=off_topic&limit=1000", &l)
		b.click(fmt.Sprintf(`#records-table tr.row[data-id=%q] a.chip-link`, d.flagged))
		b.waitJS("the flagged records", fmt.Sprintf(`location.hash === '#/records?flag=off_topic' && %s === %d && !!document.querySelector('#records-table tr.row[data-id=%q]')`, uiRowsJS, len(l.Records), d.flagged))
		if chip := jsEval[string](b, `document.querySelector('.active-filters').innerText`); !strings.Contains(chip, "flag") || !strings.Contains(chip, "off_topic") {
			t.Errorf("active filters %q", chip)
		}
		b.click(".quick button:first-child")
		b.waitJS("all records", uiRowsJS+` === 100`)
	})

	t.Run("quick filters, saved views and sort", func(t *testing.T) {
		b.t = t
		b.click(`.quick button[title^="Records with an error"]`)
		b.waitJS("the errors quick filter", fmt.Sprintf(`%s === %d && [...document.querySelectorAll('#records-table tbody tr.row')].every(r => r.classList.contains('status-error'))`, uiRowsJS, d.errors))
		if rng := jsEval[string](b, `document.getElementById('f-range').value`); rng != "24h" {
			t.Errorf("the quick filter's from=-24h shows as range %q, want 24h", rng)
		}
		// Save it as a view under another name, then use the view.
		b.click("#save-view")
		b.do(chromedp.SendKeys(chromedp.ID("view-name"), "Recent failures"))
		b.click("#save-view-submit")
		b.waitJS("the saved view chip", `[...document.querySelectorAll('.quick .view-chip button')].some(x => x.textContent === 'Recent failures')`)
		b.click(".quick button:first-child")
		b.waitJS("all records", uiRowsJS+` === 100`)
		jsEval[chromedp.Void](b, `[...document.querySelectorAll('.quick .view-chip button')].find(x => x.textContent === 'Recent failures').click()`)
		b.waitJS("the view's records", fmt.Sprintf(`%s === %d && location.hash.includes('status=error')`, uiRowsJS, d.errors))

		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-sort'); s.value = '-cost'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("records by cost", `location.hash.includes('sort=-cost')`)
		// The previous (time-ordered) rows are the same records, so wait for the order itself.
		costsJS := `[...document.querySelectorAll('#records-table tbody td[data-col="cost"]')].map(td => parseFloat(td.textContent.replace('$', '')))`
		b.waitJS("records ordered by cost", fmt.Sprintf(`(() => { const c = %s; return c.length === %d && c.every((v, i) => i === 0 || v <= c[i-1]); })()`, costsJS, d.errors))
		if costs := jsEval[[]float64](b, costsJS); costs[0] == costs[len(costs)-1] {
			t.Errorf("costs %v: all equal, so the order proves nothing", costs)
		}
		b.click(".quick button:first-child")
		b.waitJS("all records", uiRowsJS+` === 100`)
	})

	t.Run("column headers sort", func(t *testing.T) {
		b.t = t
		apiOrder := func(sort string) string {
			var l struct {
				Records []struct {
					ID string `json:"id"`
				} `json:"records"`
			}
			path := "/api/v1/records?limit=100"
			if sort != "" {
				path += "&sort=" + sort
			}
			c.apiGet(path, &l)
			ids := make([]string, len(l.Records))
			for i, r := range l.Records {
				ids[i] = r.ID
			}
			return strings.Join(ids, " ")
		}
		uiOrder := `[...document.querySelectorAll('#records-table tbody tr.row')].map(r => r.dataset.id).join(' ')`
		for _, sort := range []string{"-duration", "duration"} {
			b.click(`#records-table th[data-col="duration"] .th-sort`)
			want := apiOrder(sort)
			b.waitJS("records by "+sort, fmt.Sprintf(`location.hash.includes('sort=%s') && %s === %q`, sort, uiOrder, want))
		}
		if got := jsEval[string](b, `document.querySelector('#records-table th[data-col="duration"]').getAttribute('aria-sort')`); got != "ascending" {
			t.Errorf("aria-sort %q", got)
		}
		b.click(".quick button:first-child")
		// Same row count as before: wait for the newest-first order itself.
		b.waitJS("all records, newest first", fmt.Sprintf(`!location.hash.includes('sort=') && %s === %q`, uiOrder, apiOrder("")))
	})

	t.Run("selected rows become a test-case dataset", func(t *testing.T) {
		b.t = t
		b.click(fmt.Sprintf(`#records-table tr.row[data-id=%q] .sel`, d.capital))
		b.click(fmt.Sprintf(`#records-table tr.row[data-id=%q] .sel`, d.flagged))
		b.waitJS("the selection bar", `!document.getElementById('selection-bar').classList.contains('hidden') && document.getElementById('selection-bar').innerText.includes('2 selected')`)
		b.click("#add-to-dataset")
		b.do(chromedp.SendKeys(chromedp.ID("dataset-name"), "geo-regressions"))
		b.click("#dataset-submit")
		b.waitJS("the confirmation", `[...document.querySelectorAll('.toast')].some(x => x.textContent.includes('geo-regressions'))`)
		var ds struct {
			RecordIDs []string `json:"record_ids"`
		}
		if code := c.apiGet("/api/v1/testcases/geo-regressions", &ds); code != 200 || strings.Join(ds.RecordIDs, " ") != d.capital+" "+d.flagged {
			t.Errorf("dataset: %d %v, want [%s %s]", code, ds.RecordIDs, d.capital, d.flagged)
		}
		b.click("#clear-selection")
		b.waitJS("no selection", `document.getElementById('selection-bar').classList.contains('hidden')`)

		// A filter that hides a selected record drops it from the selection.
		b.click(fmt.Sprintf(`#records-table tr.row[data-id=%q] .sel`, d.capital))
		b.waitJS("one selected", `document.getElementById('selection-bar').innerText.includes('1 selected')`)
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = 'error'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the selection dropped", fmt.Sprintf(`%s === %d && document.getElementById('selection-bar').classList.contains('hidden')`, uiRowsJS, d.errors))
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-status'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the unfiltered list", uiRowsJS+` === 100`)
	})

	t.Run("edit table hides and reorders columns, persisted", func(t *testing.T) {
		b.t = t
		b.click("#edit-columns")
		b.waitJS("the column editor", `!!document.getElementById('column-list')`)
		b.click("#col-output")
		b.click(`li[data-col="cost"] .up`)
		b.click(`li[data-col="cost"] .up`)
		b.click("#apply-columns")
		want := "status start input source trace_id cost model tokens duration flags scores"
		colsJS := `[...document.querySelectorAll('#records-table thead th[data-col]')].map(th => th.dataset.col).join(' ')`
		b.waitJS("the new columns", fmt.Sprintf(`%s === %q`, colsJS, want))
		b.open(base + "/#/records")
		b.waitJS("records after reload", uiRowsJS+` === 100`)
		if got := jsEval[string](b, colsJS); got != want {
			t.Errorf("after reload columns %q, want %q", got, want)
		}
		jsEval[chromedp.Void](b, `localStorage.removeItem('tracehound.columns')`)
	})

	t.Run("keyboard moves through rows and opens one", func(t *testing.T) {
		b.t = t
		b.open(base + "/#/records")
		b.waitJS("records", uiRowsJS+` === 100`)
		b.key("j")
		b.key("j")
		b.key("k")
		focused := jsEval[string](b, `document.querySelector('#records-table tr.row.focused').dataset.id`)
		if focused != d.capital {
			t.Errorf("after j j k the focused row is %s, want the first (%s)", focused, d.capital)
		}
		b.key("?")
		b.waitJS("the shortcut help", `!!document.querySelector('.modal .shortcuts')`)
		b.key(kb.Escape)
		b.waitJS("the help closed", `!document.querySelector('.overlay')`)
		b.key("j")
		second := jsEval[string](b, `document.querySelector('#records-table tr.row.focused').dataset.id`)
		b.key("\r")
		b.waitJS("the record detail", fmt.Sprintf(`location.hash.startsWith('#/records/%s') && !!document.querySelector('#span-tree .span-row')`, second))
	})

	t.Run("record detail: span tree, conversation, timeline, cost", func(t *testing.T) {
		b.t = t
		b.goHash("#/records/" + d.capital)
		b.waitJS("the span tree", `document.querySelectorAll('#span-tree .span-row').length === 5`)
		names := jsEval[[]string](b, `[...document.querySelectorAll('#span-tree .span-row')].sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map(r => r.querySelector('.span-name').textContent)`)
		if strings.Join(names, "|") != "capital_quiz.workflow|invoke_agent quiz|chat gpt-4o-mini|execute_tool lookup_capital|chat gpt-4o-mini" {
			t.Errorf("span tree order %v", names)
		}
		for _, k := range []string{"workflow", "agent", "llm", "tool"} {
			if !jsEval[bool](b, `!!document.querySelector('#span-tree .kind-`+k+`')`) {
				t.Errorf("no %s kind icon", k)
			}
		}
		if !jsEval[bool](b, `!!document.querySelector('.crumbs a[href="#/runs/batch-job-123"]')`) {
			t.Error("no link to the run")
		}
		// Fold the agent: its three children disappear.
		b.click(`#span-tree .span-row[aria-level="2"] .caret`)
		b.waitJS("the folded tree", `document.querySelectorAll('#span-tree .span-row').length === 2`)
		b.click(`#span-tree .span-row[aria-level="2"] .caret`)
		b.waitJS("the unfolded tree", `document.querySelectorAll('#span-tree .span-row').length === 5`)
		// Selecting the tool span shows its raw attributes.
		b.click(`#span-tree .span-row:has(.kind-tool)`)
		b.waitJS("the tool span's attributes", `document.getElementById('span-detail').innerText.includes('gen_ai.tool.name') && document.getElementById('span-detail').innerText.includes('lookup_capital')`)
		b.screenshot("record-detail")
		// The tree follows the keyboard: up, to the parent, fold, unfold.
		b.key(kb.ArrowUp)
		b.waitJS("the span above", `document.querySelector('#span-detail h2').textContent === 'chat gpt-4o-mini'`)
		b.key(kb.ArrowLeft)
		b.waitJS("the parent span", `document.querySelector('#span-detail h2').textContent === 'invoke_agent quiz'`)
		b.key(kb.ArrowLeft)
		b.waitJS("the folded agent", `document.querySelectorAll('#span-tree .span-row').length === 2`)
		b.key(kb.ArrowRight)
		b.waitJS("the unfolded agent", `document.querySelectorAll('#span-tree .span-row').length === 5`)

		if n := jsEval[string](b, `document.querySelector('[data-tab="conversation"] .count').textContent`); n != "5" {
			t.Errorf("conversation tab counts %s messages, want 5", n)
		}
		b.click(`[data-tab="conversation"]`)
		b.waitJS("the conversation", `document.querySelectorAll('#conversation .msg').length === 5`)
		roles := jsEval[[]string](b, `[...document.querySelectorAll('#conversation .msg .role')].map(r => r.textContent)`)
		if strings.Join(roles, " ") != "system user assistant tool assistant" {
			t.Errorf("conversation roles %v", roles)
		}
		conv := jsEval[string](b, `document.getElementById('conversation').innerText`)
		for _, s := range []string{"geography quiz assistant", "lookup_capital", `"country": "France"`, `"capital": "Paris"`, "The capital of France is Paris."} {
			if !strings.Contains(conv, s) {
				t.Errorf("conversation lacks %q:\n%s", s, conv)
			}
		}
		b.screenshot("record-conversation")

		b.click(`[data-tab="timeline"]`)
		b.waitJS("the timeline", `document.querySelectorAll('#timeline .wf-row').length === 5`)
		// The tool started 960 ms into a 2.3 s trace: its bar starts at ~42%.
		left := jsEval[float64](b, `parseFloat(document.querySelector('#timeline .wf-row:has(.kind-tool) .bar').style.left)`)
		if left < 40 || left > 44 {
			t.Errorf("tool bar starts at %.1f%%, want ~41.7%%", left)
		}
		b.screenshot("record-timeline")

		b.click(`[data-tab="cost"]`)
		b.waitJS("the cost table", `document.querySelectorAll('#cost-table tbody tr').length === 2`)
		if foot := jsEval[string](b, `document.querySelector('#cost-table tfoot').innerText`); !strings.Contains(foot, "154") || !strings.Contains(foot, "64") {
			t.Errorf("cost totals %q, want 154 input and 64 output tokens", foot)
		}
	})

	t.Run("a proxied call without message lists still shows its exchange", func(t *testing.T) {
		b.t = t
		b.goHash("#/records/" + d.proxied + "?tab=conversation")
		b.waitJS("the reconstructed conversation", `document.querySelectorAll('#conversation .msg').length === 2`)
		if txt := jsEval[string](b, `document.getElementById('conversation').innerText`); !strings.Contains(txt, "Name three primary colours.") || !strings.Contains(txt, "Red, yellow and blue.") {
			t.Errorf("conversation %q", txt)
		}
		if src := jsEval[string](b, `[...document.querySelectorAll('.meta-item')].find(m => m.querySelector('dt').textContent === 'Source').querySelector('dd').textContent`); src != "proxy" {
			t.Errorf("source %q, want proxy", src)
		}
	})

	t.Run("a failed record names the failing span", func(t *testing.T) {
		b.t = t
		b.goHash("#/records/" + d.failed)
		b.waitJS("the error notice", `!!document.getElementById('error-notice')`)
		if txt := jsEval[string](b, `document.getElementById('error-notice').innerText`); !strings.Contains(txt, "chat claude-sonnet-4-5") || !strings.Contains(txt, "upstream 529: overloaded") {
			t.Errorf("error notice %q", txt)
		}
		b.click("#error-notice a")
		b.waitJS("the failed span selected", `document.querySelector('#span-detail h2').textContent === 'chat claude-sonnet-4-5' && !!document.querySelector('#span-tree .span-row.selected.is-error')`)
	})

	t.Run("flags show their evidence highlighted", func(t *testing.T) {
		b.t = t
		b.goHash("#/records/" + d.flagged + "?tab=scores")
		b.waitJS("the flags", `!!document.querySelector('#scores .flag')`)
		if ev := jsEval[[]string](b, `[...document.querySelectorAll('#scores .evidence mark')].map(m => m.textContent)`); !uiContains(ev, "Paris is lovely in spring") {
			t.Errorf("evidence %q", ev)
		}
		if m := jsEval[[]string](b, `[...document.querySelectorAll('.io-output mark')].map(m => m.textContent)`); !uiContains(m, "Paris is lovely in spring") {
			t.Errorf("output highlights %q", m)
		}
		if !strings.Contains(jsEval[string](b, `document.getElementById('scores').innerText`), "off_topic") {
			t.Error("flag code missing")
		}
	})

	t.Run("a person adds a score", func(t *testing.T) {
		b.t = t
		b.goHash("#/records/" + d.capital + "?tab=scores")
		b.waitJS("the scores tab", `!!document.getElementById('scores')`)
		b.click(".score-form summary")
		b.do(chromedp.SendKeys(chromedp.ID("score-name"), "helpfulness"))
		b.do(chromedp.SendKeys(chromedp.ID("score-value"), "0.9"))
		jsEval[chromedp.Void](b, `document.getElementById('score-passed').value = 'true'`)
		b.do(chromedp.SendKeys(chromedp.ID("score-reason"), "answers the question"))
		b.click("#score-submit")
		b.waitJS("the new score", `document.getElementById('scores').innerText.includes('answers the question')`)
		var r struct {
			Scores map[string]struct {
				Value  float64 `json:"value"`
				Passed *bool   `json:"passed"`
				Source string  `json:"source"`
			} `json:"scores"`
		}
		c.apiGet("/api/v1/records/"+d.capital, &r)
		if s, ok := r.Scores["helpfulness"]; !ok || s.Value != 0.9 || s.Passed == nil || !*s.Passed || s.Source != "human" {
			t.Errorf("stored score %+v", r.Scores)
		}
	})

	t.Run("metric scores as a column and a filter", func(t *testing.T) {
		b.t = t
		b.goHash("#/records")
		b.waitJS("records", uiRowsJS+` === 100`)
		b.click("#edit-columns")
		b.waitJS("the metric column choice", `!!document.getElementById('col-score-helpfulness')`)
		b.click("#col-score-helpfulness")
		jsEval[chromedp.Void](b, `document.querySelector('.modal-body').scrollTop = 0`)
		b.screenshot("edit-table")
		b.click("#apply-columns")
		b.waitJS("the helpfulness column", `!!document.querySelector('#records-table th[data-col="score:helpfulness"]')`)
		cell := jsEval[string](b, fmt.Sprintf(`document.querySelector('#records-table tr.row[data-id=%q] td[data-col="score:helpfulness"]').textContent`, d.capital))
		if cell != "0.9" {
			t.Errorf("helpfulness cell %q, want 0.9", cell)
		}
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-metric'); s.value = 'helpfulness>0.5'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("the scored record", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tbody tr.row').dataset.id === %q`, uiRowsJS, d.capital))
		jsEval[chromedp.Void](b, `(() => { const s = document.getElementById('f-metric'); s.value = 'helpfulness>0.95'; s.dispatchEvent(new Event('change')); })()`)
		b.waitJS("no match", `!!document.querySelector('.records-body .empty')`)
		jsEval[chromedp.Void](b, `localStorage.removeItem('tracehound.columns')`)
		b.click(".quick button:first-child")
		b.waitJS("all records", uiRowsJS+` === 100`)
	})

	t.Run("stored XSS stays inert", func(t *testing.T) {
		b.t = t
		check := func(where string) {
			t.Helper()
			if jsEval[bool](b, `window.__xss !== undefined`) {
				t.Fatalf("%s: a stored payload ran (window.__xss is set)", where)
			}
			text := jsEval[string](b, `document.body.innerText`)
			for _, p := range []string{uiXSSImg, uiXSSScript} {
				if !strings.Contains(text, p) {
					t.Errorf("%s: payload %q is not shown as text", where, p)
				}
			}
			if n := jsEval[int](b, `document.querySelectorAll('img, iframe, object, embed').length + [...document.scripts].filter(s => !s.src.endsWith('/js/app.js')).length`); n != 0 {
				t.Errorf("%s: %d injected elements", where, n)
			}
		}
		b.goHash("#/records")
		b.waitJS("the XSS record row", fmt.Sprintf(`!!document.querySelector('#records-table tr.row[data-id=%q]')`, d.xss))
		check("records table")
		b.goHash("#/records/" + d.xss)
		b.waitJS("the XSS record", `!!document.querySelector('#span-tree .span-row')`)
		check("record detail")
		b.click(`[data-tab="conversation"]`)
		b.waitJS("the XSS conversation", `document.querySelectorAll('#conversation .msg').length === 4`)
		check("conversation")
	})

	t.Run("a 5,000-span trace stays usable", func(t *testing.T) {
		b.t = t
		start := time.Now()
		b.goHash("#/records/" + d.big)
		b.waitJS("the big span tree", `!!document.querySelector('#span-tree .span-row')`)
		t.Logf("5,001-span record shown in %v", time.Since(start))
		if el := time.Since(start); el > 8*time.Second {
			t.Errorf("a %d-span trace took %v to show", d.bigSpans, el)
		}
		if txt := jsEval[string](b, `document.querySelector('.tree-tools').innerText`); !strings.Contains(txt, fmt.Sprintf("%d spans", d.bigSpans)) {
			t.Errorf("tree tools %q", txt)
		}
		b.click("#expand-all")
		b.waitJS("the expanded tree", fmt.Sprintf(`document.querySelector('#span-tree .vlist-inner').offsetHeight >= %d * 30`, d.bigSpans))
		if n := jsEval[int](b, `document.querySelectorAll('#span-tree .span-row').length`); n > 200 {
			t.Errorf("%d span rows in the DOM; the tree must window its rows", n)
		}
		jsEval[chromedp.Void](b, `(() => { const el = document.getElementById('span-tree'); el.scrollTop = el.scrollHeight; })()`)
		b.waitJS("the last step", `[...document.querySelectorAll('#span-tree .span-name')].some(n => n.textContent === 'step 4949')`)
		b.click(`[data-tab="timeline"]`)
		b.waitJS("the big timeline", `!!document.querySelector('#timeline .wf-row')`)
		if n := jsEval[int](b, `document.querySelectorAll('#timeline .wf-row').length`); n > 200 {
			t.Errorf("%d timeline rows in the DOM; the timeline must window its rows", n)
		}
		jsEval[chromedp.Void](b, `(() => { const el = document.getElementById('timeline'); el.scrollTop = el.scrollHeight; })()`)
		b.waitJS("the last step in the timeline", `[...document.querySelectorAll('#timeline .wf-name')].some(n => n.textContent.includes('step 4949'))`)
	})

	t.Run("live tail shows new records as they arrive", func(t *testing.T) {
		b.t = t
		b.goHash("#/records")
		b.waitJS("records", uiRowsJS+` === 100`)
		b.click("#live-tail")
		b.waitJS("live mode in the URL", `location.hash.includes('live=1')`)
		td := ptrace.NewTraces()
		id := uiBuild(td, uiTrace{service: "live-app", start: time.Now(), spans: []uiSpan{
			{name: "chat gpt-4o-mini", parent: -1, duration: 200 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", "Arriving while you watch?", "Yes, live.", 7, 3, 0.000002, nil)},
		}})[0]
		uiPostTraces(t, c, td)
		b.waitJS("the new record at the top", fmt.Sprintf(`(() => { const r = document.querySelector('#records-table tbody tr.row'); return r && r.dataset.id === %q && r.classList.contains('fresh'); })()`, id))
		// Infinite scroll may have fetched the next page meanwhile, so the row count is at least
		// the page plus the new record; the new record must be listed exactly once.
		if n := jsEval[int](b, uiRowsJS); n < 101 {
			t.Errorf("%d rows after the live update, want at least 101 (the page plus the new record)", n)
		}
		if n := jsEval[int](b, fmt.Sprintf(`document.querySelectorAll('#records-table tbody tr.row[data-id=%q]').length`, id)); n != 1 {
			t.Errorf("the new record is listed %d times, want once", n)
		}
		b.click("#live-tail")
		b.waitJS("live mode off", `!location.hash.includes('live=1')`)
	})

	t.Run("other pages and narrow screens", func(t *testing.T) {
		b.t = t
		b.goHash("#/setup")
		b.waitJS("the setup page", `!!document.getElementById('setup-otlp')`)
		setup := jsEval[string](b, `document.querySelector('.setup').innerText`)
		host, _, _ := strings.Cut(c.apiAddr, ":")
		for _, s := range []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + host + ":4318",
			`OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <key>"`,
			"TRACELOOP_BASE_URL=http://" + host + ":4318",
			"TRACELOOP_HEADERS=",
			"ENABLE_BETA_TRACING_DETAILED=1",
			"BETA_TRACING_ENDPOINT=http://" + host + ":4318/otel",
			"OPENAI_BASE_URL=http://" + host + ":4319/v1",
			"otlptracehttp.WithEndpoint(",
			"OTLPSpanExporter(",
			"OTLPTraceExporter(",
		} {
			if !strings.Contains(setup, s) {
				t.Errorf("setup page lacks %q", s)
			}
		}
		b.screenshot("setup")
		b.goHash("#/runs")
		b.waitJS("the runs", `!!document.querySelector('#runs-table tr.row[data-id="batch-job-123"]')`)
		if row := jsEval[string](b, `document.querySelector('#runs-table tr.row[data-id="batch-job-123"]').innerText`); !strings.Contains(row, "\t2\t") {
			t.Errorf("run row %q, want 2 records", row)
		}
		if n := jsEval[int](b, `document.querySelectorAll('#runs-table tr.row').length`); n != 4 {
			t.Errorf("%d runs, want 4 (batch-job-123, nightly-eval-0..2)", n)
		}
		b.waitJS("the datasets", `!!document.querySelector('#datasets-table tr[data-name="geo-regressions"]')`)
		if row := jsEval[string](b, `document.querySelector('#datasets-table tr[data-name="geo-regressions"]').innerText`); !strings.Contains(row, "\t2\t") {
			t.Errorf("dataset row %q, want 2 test cases", row)
		}
		b.screenshot("runs")
		b.click(`#runs-table tr.row[data-id="batch-job-123"]`)
		b.waitJS("the run detail", `!!document.getElementById('run-cards') && document.querySelectorAll('.run-page tbody tr.row').length === 2`)
		if cards := jsEval[string](b, `document.getElementById('run-cards').innerText`); !strings.Contains(cards, "1 error") || !strings.Contains(cards, "P95") {
			t.Errorf("run cards %q", cards)
		}
		b.screenshot("run-detail")

		b.goHash("#/stats?group_by=model&range=7d")
		b.waitJS("the stats charts split by model", `!!document.querySelector('#chart-cost svg path.line') && !!document.querySelector('#bars-cost svg rect') && document.querySelector('#chart-cost h3').textContent.endsWith('by model')`)
		if legend := jsEval[string](b, `document.querySelector('#chart-cost .legend').innerText`); !strings.Contains(legend, "gpt-4o-mini") || !strings.Contains(legend, "claude-sonnet-4-5") {
			t.Errorf("cost over time legend %q, want a line per model", legend)
		}
		if rows := jsEval[string](b, `document.getElementById('stats-table').innerText`); !strings.Contains(rows, "gpt-4o-mini") || !strings.Contains(rows, "claude-sonnet-4-5") {
			t.Errorf("stats by model %q", rows)
		}
		if n := jsEval[int](b, `document.querySelectorAll('.stats-page .chart svg').length`); n != 8 {
			t.Errorf("%d charts, want 4 over time and 4 by group", n)
		}
		b.screenshot("stats")

		// Metrics are feature-detected: the page follows what this server offers.
		b.goHash("#/metrics")
		b.waitJS("the metrics page", `!!document.querySelector('.metrics-page .empty, #metrics-list')`)
		text := jsEval[string](b, `document.querySelector('.metrics-page').innerText`)
		switch code := c.apiGet("/api/v1/metrics", nil); code {
		case 404:
			if !strings.Contains(text, "not enabled on this server") {
				t.Errorf("no metrics API (404), but the page says %q", text)
			}
		case 200:
			if strings.Contains(text, "not enabled") {
				t.Errorf("the server has metrics, but the page says %q", text)
			}
			// Define a metric from a built-in, pause it, and check what the server stored.
			b.click("#new-metric")
			b.do(chromedp.SendKeys(chromedp.ID("metric-name"), "on-topic"))
			jsEval[chromedp.Void](b, `document.getElementById('metric-builtin').value = 'off_topic'`)
			b.do(chromedp.SendKeys(chromedp.ID("metric-sample"), "0.5"))
			b.do(chromedp.SendKeys(chromedp.ID("metric-filter"), "source=otlp"))
			b.click("#metric-submit")
			b.waitJS("the new metric", `!!document.querySelector('#metrics-list .metric-card[data-name="on-topic"]')`)
			b.click(`#toggle-on-topic`)
			b.waitJS("the paused metric", `!!document.querySelector('#metrics-list .metric-card[data-name="on-topic"] .badge-paused')`)
			var ml struct {
				Metrics []struct {
					Name       string  `json:"name"`
					Builtin    string  `json:"builtin"`
					Filter     string  `json:"filter"`
					SampleRate float64 `json:"sample_rate"`
					Enabled    bool    `json:"enabled"`
				} `json:"metrics"`
			}
			c.apiGet("/api/v1/metrics", &ml)
			found := false
			for _, m := range ml.Metrics {
				if m.Name == "on-topic" {
					found = true
					if m.Builtin != "off_topic" || m.Filter != "source=otlp" || m.SampleRate != 0.5 || m.Enabled {
						t.Errorf("stored metric %+v", m)
					}
				}
			}
			if !found {
				t.Errorf("metric not stored: %+v", ml)
			}
		default:
			t.Errorf("GET /api/v1/metrics: %d", code)
		}
		b.screenshot("metrics")

		// Records with no data: the empty state links to setup.
		b.goHash("#/records?trace_id=00000000000000000000000000000000")
		b.waitJS("the no-match empty state", `!!document.querySelector('.records-body .empty')`)

		b.darkMode(true)
		b.goHash("#/records")
		b.waitJS("records", uiRowsJS+` === 100`)
		if bg := jsEval[string](b, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(14, 17, 23)" {
			t.Errorf("dark mode background %s", bg)
		}
		b.screenshot("records-dark")
		b.goHash("#/records/" + d.capital)
		b.waitJS("the span tree", `document.querySelectorAll('#span-tree .span-row').length === 5`)
		b.screenshot("record-detail-dark")
		b.darkMode(false)

		b.do(chromedp.EmulateViewport(390, 844))
		b.goHash("#/records")
		b.waitJS("records", uiRowsJS+` === 100`)
		if w := jsEval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("records page is %d px wide on a 390 px screen", w)
		}
		b.screenshot("records-narrow")
		b.goHash("#/records/" + d.capital)
		b.waitJS("the span tree", `document.querySelectorAll('#span-tree .span-row').length === 5`)
		if w := jsEval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("record detail is %d px wide on a 390 px screen", w)
		}
		b.screenshot("record-detail-narrow")
		b.do(chromedp.EmulateViewport(1280, 900))
	})

	b.t = t
	b.checkClean()
}

// TestUI_APIKeyPrompt opens the UI of a collector that runs with bearer auth (the default)
// without a key: the page asks for one, keeps it in localStorage and sends it.
func TestUI_APIKeyPrompt(t *testing.T) {
	c := newCollector(t)
	base := "http://" + c.apiAddr

	b := newUIBrowser(t, 1280, 900)
	b.open(base + "/#/records")
	b.waitJS("the key prompt", `!!document.getElementById('api-key-input')`)
	if txt := jsEval[string](b, `document.querySelector('.key-prompt').innerText`); !strings.Contains(txt, "needs an API key") {
		t.Errorf("prompt text %q", txt)
	}
	b.screenshot("api-key-prompt")
	b.do(chromedp.SendKeys(chromedp.ID("api-key-input"), c.key))
	b.click("#save-key")
	// No traces yet: the empty state says what to do and links to the setup page.
	b.waitJS("the empty state", `!!document.querySelector('.records-body .empty a[href="#/setup"]')`)
	if txt := jsEval[string](b, `document.querySelector('.records-body .empty').innerText`); !strings.Contains(txt, "No records yet") {
		t.Errorf("empty state %q", txt)
	}
	if got := jsEval[string](b, `localStorage.getItem('tracehound.apiKey')`); got != c.key {
		t.Errorf("stored key %q, want the entered one", got)
	}

	td := ptrace.NewTraces()
	ids := uiBuild(td, uiTrace{service: "gated", start: time.Now().Add(-time.Second), spans: []uiSpan{
		{name: "chat gpt-4o-mini", parent: -1, duration: 300 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", "Behind the key?", "Yes.", 5, 2, 0.000001, nil)},
	}})
	uiPostTraces(t, c, td)
	b.open(base + "/?again=1#/records")
	b.waitJS("the record behind the key", fmt.Sprintf(`%s === 1 && document.querySelector('#records-table tr.row').dataset.id === %q`, uiRowsJS, ids[0]))

	// Kept across reloads: no prompt the second time.
	b.open(base + "/#/records/" + ids[0])
	b.waitJS("the record detail", `!!document.querySelector('#span-tree .span-row')`)
	if jsEval[bool](b, `!!document.getElementById('api-key-input')`) {
		t.Error("asked for the key again after a reload")
	}

	// A wrong key brings the prompt back and says why.
	jsEval[chromedp.Void](b, `localStorage.setItem('tracehound.apiKey', 'th_wrong')`)
	b.open(base + "/#/records")
	b.waitJS("the key prompt", `!!document.getElementById('api-key-input')`)
	if txt := jsEval[string](b, `document.querySelector('.key-prompt').innerText`); !strings.Contains(txt, "rejected this API key") {
		t.Errorf("prompt text after a wrong key %q", txt)
	}
	b.checkClean()
}

func uiContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
