package xmltree

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

const sample = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<r:doc xmlns:r="urn:r" xmlns="urn:d" a="1 &amp; 2">
  <item n="&#x41;&#66;">one &lt;1&gt;</item>
  <item/>
  <other xmlns="urn:o"><![CDATA[x<y]]></other>
</r:doc>
`

func TestParse(t *testing.T) {
	root, err := Parse([]byte(sample), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if root.Space != "urn:r" || root.Local != "doc" || root.A("a") != "1 & 2" || root.Line != 3 {
		t.Fatalf("root %+v", root)
	}
	items := root.All("item")
	if len(items) != 2 || items[0].A("n") != "AB" || items[0].Text != "one <1>" || items[0].Space != "urn:d" || items[1].Line != 5 {
		t.Fatalf("items %+v", items)
	}
	o := root.First("other")
	if o.Space != "urn:o" || o.Text != "x<y" {
		t.Fatalf("other %+v", o)
	}
	if got := items[1].Loc(); got != "/doc/item[2] (line 5)" {
		t.Errorf("Loc = %q", got)
	}
	if got := o.LocAttr("x"); got != "/doc/other/@x (line 6)" {
		t.Errorf("LocAttr = %q", got)
	}
	if LineOf(o.LocAttr("x")) != 6 || LineOf("/a/b") != 0 {
		t.Errorf("LineOf does not read Loc back")
	}
	if want, _ := parseStd([]byte(sample), 1<<20); dump(want) != dump(root) {
		t.Errorf("differs from encoding/xml:\n%s\n%s", dump(root), dump(want))
	}
}

// Text split by comments, CDATA and children joins up (trimmed piece by
// piece, as with encoding/xml), and stays linear: a hostile file may split
// one element's text a million times.
func TestSplitText(t *testing.T) {
	doc := "<a> x <!-- c --> y <![CDATA[ z ]]><b>in b</b> w </a>"
	root, err := Parse([]byte(doc), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := parseStd([]byte(doc), 1<<20)
	if root.Text != "xyzw" || root.First("b").Text != "in b" || dump(root) != dump(want) {
		t.Fatalf("%s\nencoding/xml:\n%s", dump(root), dump(want))
	}
	big := "<a>" + strings.Repeat("x<!---->", 1<<20) + "</a>"
	root, err = Parse([]byte(big), 1<<24)
	if err != nil || len(root.Text) != 1<<20 {
		t.Fatalf("err %v, text length %d", err, len(root.Text))
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"doctype", `<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>`, ErrDoctype},
		{"entity expansion", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`, ErrDoctype},
		{"too deep", strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), ErrTooDeep},
		{"too large", "<a>" + strings.Repeat(" ", 100) + "</a>", ErrTooLarge},
		{"empty", "  ", ErrNoRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := 1 << 20
			if tc.want == ErrTooLarge {
				limit = 50
			}
			if _, err := Parse([]byte(tc.doc), limit); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNotWellFormed(t *testing.T) {
	for _, doc := range []string{
		`<a>`, `<a></b>`, `<a><b></a></b>`, `<a x=1/>`, `<a>&unknown;</a>`, `<a>&#0;</a>`,
		`<a>x & y</a>`, `<a/><b/>`, `text<a/>`, `<a x="<"/>`, `<a><!-- x -- y --></a>`, "<a>\x01</a>", "<a>\xff</a>",
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `<a>]]></a>`, `<1a/>`,
	} {
		t.Run(doc, func(t *testing.T) {
			_, err := Parse([]byte(doc), 1<<20)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a syntax error", err)
			}
			if _, err := parseStd([]byte(doc), 1<<20); err == nil {
				t.Errorf("encoding/xml accepts it")
			}
		})
	}
}

// dump renders a tree for comparison with the reference reader.
func dump(n *Node) string {
	var b strings.Builder
	var walk func(*Node, int)
	walk = func(n *Node, depth int) {
		fmt.Fprintf(&b, "%*s%s|%s line %d text %q attrs", depth, "", n.Space, n.Local, n.Line, n.Text)
		for _, a := range n.Attrs {
			fmt.Fprintf(&b, " %s=%q", a.Name.Local, a.Value)
		}
		b.WriteByte('\n')
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// FuzzParse holds the scanner to encoding/xml: whatever it accepts, the
// reference reader accepts too, with the same tree and lines, and the other
// way round. Inputs with non-ASCII bytes are left out of the verdict
// comparison: the two use different Unicode tables for name characters.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`<a x='1'><b>t</b><!--c--><?pi x?></a>`))
	f.Add([]byte(`<x:a xmlns:x="u"><x:b/></x:a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data, 1<<20)
		want, stdErr := parseStd(data, 1<<20)
		ascii := !bytes.ContainsFunc(data, func(r rune) bool { return r >= utf8.RuneSelf })
		switch {
		case err == nil && stdErr == nil:
			if g, w := dump(got), dump(want); g != w {
				t.Fatalf("trees differ:\n%s\nencoding/xml:\n%s", g, w)
			}
		case err == nil && stdErr != nil && ascii:
			t.Fatalf("accepted what encoding/xml rejects (%v):\n%s", stdErr, dump(got))
		case err != nil && stdErr == nil && ascii:
			t.Fatalf("rejected what encoding/xml accepts: %v", err)
		}
	})
}
