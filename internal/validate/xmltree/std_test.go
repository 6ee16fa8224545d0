package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// parseStd is the reference reader on encoding/xml's tokenizer: the
// differential tests hold the fast scanner to its verdicts and trees.
func parseStd(data []byte, maxBytes int) (*Node, error) {
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), maxBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported (use UTF-8)", label)
	}
	var root, cur *Node
	depth := 0
	for {
		line, _ := d.InputPos() // position of the next token's start
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &SyntaxError{Line: se.Line, Msg: se.Msg}
			}
			return nil, &SyntaxError{Line: line, Msg: err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == nil && root != nil {
				return nil, &SyntaxError{Line: line, Msg: "more than one root element"}
			}
			depth++
			if depth > MaxDepth {
				return nil, fmt.Errorf("%w (line %d, limit %d)", ErrTooDeep, line, MaxDepth)
			}
			n := &Node{Space: t.Name.Space, Local: t.Name.Local, Attrs: t.Attr, Parent: cur, Line: line}
			if cur == nil {
				root = n
			} else {
				cur.Children = append(cur.Children, n)
			}
			cur = n
		case xml.EndElement:
			depth--
			cur = cur.Parent
		case xml.CharData:
			if cur == nil {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, &SyntaxError{Line: line, Msg: "text outside the root element"}
				}
				continue
			}
			if s := bytes.TrimSpace(t); len(s) > 0 {
				cur.Text += string(s)
			}
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, fmt.Errorf("%w (line %d)", ErrDoctype, line)
			}
			return nil, &SyntaxError{Line: line, Msg: "unexpected <!" + firstWord(t) + "> declaration"}
		}
	}
	if root == nil {
		return nil, ErrNoRoot
	}
	return root, nil
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Accessors accept a nil receiver (an absent element) and answer "absent",
// so lookups chain without nil checks: n.First("a").First("b").A("c").
