package llmschema

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestConventionKeys_WellFormedAndDistinct parses conventions.go and keys.go and checks
// that every string constant is a plausible attribute key or value (non-empty, no
// surrounding or embedded whitespace) and that no two key constants name the same key
// unless listed here as deliberate aliases, so a copy-paste slip cannot make two
// conventions silently share one key.
func TestConventionKeys_WellFormedAndDistinct(t *testing.T) {
	deliberate := map[string]bool{
		"tool": true, // SpanKindTool and RoleTool: a span kind and a message role
	}
	seen := map[string]string{}
	fset := token.NewFileSet()
	for _, file := range []string{"keys.go", "conventions.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				val, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				if val == "" || strings.TrimSpace(val) != val || strings.ContainsAny(val, "\t\n") {
					t.Errorf("%s: %s = %q is not a well-formed key", file, name.Name, val)
				}
				if prev, dup := seen[val]; dup && !deliberate[val] {
					t.Errorf("%s and %s both spell %q", prev, name.Name, val)
				}
				seen[val] = name.Name
			}
			return true
		})
	}
	if len(seen) < 150 {
		t.Fatalf("parsed only %d constants", len(seen))
	}
}
