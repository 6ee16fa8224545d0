// Package xmltree reads untrusted XML into a small element tree that keeps
// each element's line, so findings can point at "XPath (line N)".
//
// Parsing is safe by construction: it refuses any DOCTYPE (so no DTD, no
// entity declarations, nothing external is ever fetched or expanded), knows
// only the five predefined entities and character references, bounds the
// input size and the nesting depth, and accepts only UTF-8.
package xmltree

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxDepth bounds element nesting. Real QRDA III files nest about 15 deep.
const MaxDepth = 256

var (
	// ErrTooLarge means the input is bigger than the caller's limit.
	ErrTooLarge = errors.New("file too large")
	// ErrDoctype means the input has a DOCTYPE (DTD), which is refused.
	ErrDoctype = errors.New("DOCTYPE declarations are not accepted")
	// ErrTooDeep means elements nest deeper than MaxDepth.
	ErrTooDeep = errors.New("elements nested too deeply")
	// ErrNoRoot means the input has no element at all.
	ErrNoRoot = errors.New("no root element")
)

// SyntaxError is a well-formedness error at a line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Node is one element.
type Node struct {
	Space, Local string // namespace URI (after prefix resolution) and local name
	// Attrs keep their prefix as written in Name.Space; look them up by local name.
	Attrs    []xml.Attr
	Children []*Node
	Parent   *Node
	Line     int
	// Text is the element's own character data with surrounding space trimmed.
	Text string
	// index is the 1-based position among same-named siblings; same is how
	// many same-named siblings there are (so XPaths add [n] only when needed).
	index, same int
}

// Accessors accept a nil receiver (an absent element) and answer "absent",
// so lookups chain without nil checks: n.First("a").First("b").A("c").

// Content returns the element's text, or "" for an absent element.
func (n *Node) Content() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// Attr returns the value of the attribute named local (any namespace).
func (n *Node) Attr(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// A returns the attribute value, or "" when absent.
func (n *Node) A(local string) string {
	v, _ := n.Attr(local)
	return v
}

// All returns the children named local.
func (n *Node) All(local string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// First returns the first child named local, or nil.
func (n *Node) First(local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Local == local {
			return c
		}
	}
	return nil
}

// Path follows child names and returns every element reached.
func (n *Node) Path(names ...string) []*Node {
	cur := []*Node{n}
	for _, name := range names {
		var next []*Node
		for _, c := range cur {
			next = append(next, c.All(name)...)
		}
		cur = next
	}
	return cur
}

// XPath is the element's absolute path, with [n] where it has same-named
// siblings, e.g. /ClinicalDocument/component/structuredBody/component[2]/section.
func (n *Node) XPath() string {
	var parts []string
	for e := n; e != nil; e = e.Parent {
		p := e.Local
		if e.Parent != nil {
			i, same := e.position()
			if same > 1 {
				p += "[" + strconv.Itoa(i) + "]"
			}
		}
		parts = append(parts, p)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// Loc is the location string findings carry: XPath and line.
func (n *Node) Loc() string {
	if n == nil {
		return "/"
	}
	return n.XPath() + " (line " + strconv.Itoa(n.Line) + ")"
}

// LineOf reads the line back from a location made by Loc or LocAttr (0 if none).
func LineOf(loc string) int {
	i := strings.LastIndex(loc, "(line ")
	if i < 0 || !strings.HasSuffix(loc, ")") {
		return 0
	}
	n, _ := strconv.Atoi(loc[i+len("(line ") : len(loc)-1])
	return n
}

// LocAttr is Loc for one of the element's attributes.
func (n *Node) LocAttr(attr string) string {
	return n.XPath() + "/@" + attr + " (line " + strconv.Itoa(n.Line) + ")"
}

func (n *Node) position() (int, int) {
	if n.same == 0 {
		// Number all same-named siblings at once; paths are only built for
		// findings, so this stays off the hot path.
		count := map[string]int{}
		for _, c := range n.Parent.Children {
			count[c.Local]++
			c.index = count[c.Local]
		}
		for _, c := range n.Parent.Children {
			c.same = count[c.Local]
		}
	}
	return n.index, n.same
}
