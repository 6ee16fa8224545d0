package xmltree

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse reads data into a tree. It fails on input larger than maxBytes, on a
// DOCTYPE, on encodings other than UTF-8 and on anything not well-formed.
//
// It is a purpose-built scanner rather than encoding/xml's Decoder: on CMS
// QRDA III files the Decoder ran at about 45 MB/s, a fifth of what validating
// a 1 MB file 100 times a second needs. The differential fuzz test holds it
// to encoding/xml's verdicts and trees.
func Parse(data []byte, maxBytes int) (*Node, error) {
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), maxBytes)
	}
	s := &scanner{data: data, str: string(data), line: 1}
	return s.document()
}

type scanner struct {
	data []byte
	// str is data as one string: names and most attribute values are
	// substrings of it, so they cost no allocation of their own.
	str  string
	pos  int
	line int
	// Nodes and attributes are carved from blocks: one allocation per
	// block instead of one per element.
	nodes []Node
	attrs []xml.Attr
}

func (s *scanner) newNode() *Node {
	if len(s.nodes) == cap(s.nodes) {
		s.nodes = make([]Node, 0, 1024)
	}
	s.nodes = s.nodes[:len(s.nodes)+1]
	return &s.nodes[len(s.nodes)-1]
}

func (s *scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Line: s.line, Msg: fmt.Sprintf(format, args...)}
}

// advance moves to end, counting lines on the way.
func (s *scanner) advance(end int) {
	s.line += bytes.Count(s.data[s.pos:end], []byte{'\n'})
	s.pos = end
}

// sub returns data[from:to] as a string without copying.
func (s *scanner) sub(from, to int) string { return s.str[from:to] }

// nsScope maps prefixes to namespace URIs; a scope is copied only when an
// element declares namespaces, which QRDA files do on the root alone.
type nsScope map[string]string

func (s *scanner) document() (*Node, error) {
	if bytes.HasPrefix(s.data, []byte("\xef\xbb\xbf")) {
		s.pos = 3
	}
	var root, cur *Node
	var names []string // open elements' qualified names
	// texts[i] gathers the text of open element i; it becomes Node.Text when
	// the element closes, so text split by many comments stays linear to join.
	var texts [][]byte
	var scopes []nsScope
	scope := nsScope{"xml": "http://www.w3.org/XML/1998/namespace"}
	first := true
	for s.pos < len(s.data) {
		lt := bytes.IndexByte(s.data[s.pos:], '<')
		if lt < 0 {
			lt = len(s.data) - s.pos
		}
		if lt > 0 {
			text, err := s.text(s.pos+lt, cur != nil)
			if err != nil {
				return nil, err
			}
			if cur == nil && len(bytes.TrimSpace(text)) > 0 {
				return nil, s.errorf("text outside the root element")
			}
			if cur != nil {
				texts[len(texts)-1] = append(texts[len(texts)-1], bytes.TrimSpace(text)...)
			}
			first = false
			continue
		}
		line := s.line
		rest := s.data[s.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest[2:], []byte("?>"))
			if end < 0 {
				return nil, s.errorf("unterminated processing instruction")
			}
			end += 2
			if err := s.pi(rest[2:end], first); err != nil {
				return nil, err
			}
			s.advance(s.pos + end + 2)
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("--"))
			if end < 0 {
				return nil, s.errorf("unterminated comment")
			}
			if len(rest) < 4+end+3 || rest[4+end+2] != '>' {
				return nil, s.errorf(`invalid sequence "--" not allowed in comments`)
			}
			s.advance(s.pos + 4 + end + 3)
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if cur == nil {
				return nil, s.errorf("CDATA outside the root element")
			}
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return nil, s.errorf("unterminated CDATA section")
			}
			end += 9
			if err := checkChars(rest[9:end]); err != nil {
				return nil, s.errorf("%v", err)
			}
			texts[len(texts)-1] = append(texts[len(texts)-1], bytes.TrimSpace(rest[9:end])...)
			s.advance(s.pos + end + 3)
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			return nil, fmt.Errorf("%w (line %d)", ErrDoctype, line)
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, s.errorf("unexpected <! declaration")
		case bytes.HasPrefix(rest, []byte("</")):
			if cur == nil {
				return nil, s.errorf("unexpected end element")
			}
			s.pos += 2
			name := s.qname()
			if name == nil {
				return nil, s.errorf("expected element name after </")
			}
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != '>' {
				return nil, s.errorf("invalid characters between </%s and >", name)
			}
			s.pos++
			if string(name) != names[len(names)-1] {
				return nil, s.errorf("element <%s> closed by </%s>", names[len(names)-1], name)
			}
			names = names[:len(names)-1]
			if t := texts[len(texts)-1]; len(t) > 0 {
				cur.Text = string(t)
			}
			texts[len(texts)-1] = texts[len(texts)-1][:0] // reused by the next element at this depth
			texts = texts[:len(texts)-1]
			scope = scopes[len(scopes)-1]
			scopes = scopes[:len(scopes)-1]
			cur = cur.Parent
		default:
			if cur == nil && root != nil {
				return nil, s.errorf("more than one root element")
			}
			if len(names) >= MaxDepth {
				return nil, fmt.Errorf("%w (line %d, limit %d)", ErrTooDeep, line, MaxDepth)
			}
			s.pos++
			qname, attrs, empty, err := s.startTag()
			if err != nil {
				return nil, err
			}
			scopes = append(scopes, scope)
			for i, a := range attrs {
				isDecl := a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns"
				if !isDecl {
					continue
				}
				if i == firstDecl(attrs) {
					scope = maps.Clone(scope) // the parent keeps its own
				}
				if a.Name.Space == "xmlns" {
					scope[a.Name.Local] = a.Value
				} else {
					scope[""] = a.Value
				}
			}
			prefix, local := splitName(qname)
			space, ok := scope[prefix]
			if !ok && prefix != "" {
				space = prefix // unbound prefix: keep it, as encoding/xml does
			}
			n := s.newNode()
			*n = Node{Space: space, Local: local, Attrs: attrs, Parent: cur, Line: line}
			if cur == nil {
				root = n
			} else {
				cur.Children = append(cur.Children, n)
			}
			if empty {
				scope = scopes[len(scopes)-1]
				scopes = scopes[:len(scopes)-1]
			} else {
				cur = n
				names = append(names, qname)
				if len(texts) < cap(texts) {
					texts = texts[:len(texts)+1]
				} else {
					texts = append(texts, nil)
				}
			}
		}
		first = false
	}
	if cur != nil {
		return nil, s.errorf("unexpected end of file inside <%s>", names[len(names)-1])
	}
	if root == nil {
		return nil, ErrNoRoot
	}
	return root, nil
}

func firstDecl(attrs []xml.Attr) int {
	for i, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			return i
		}
	}
	return -1
}

func splitName(q string) (string, string) {
	if i := strings.IndexByte(q, ':'); i > 0 && i < len(q)-1 {
		return q[:i], q[i+1:]
	}
	return "", q
}

// pi checks a processing instruction; the XML declaration may only come
// first and may only declare UTF-8.
func (s *scanner) pi(body []byte, first bool) error {
	// The target is the name the body starts with; what follows it need
	// not be separated by space (encoding/xml reads <?a!?> as target a).
	ts := scanner{data: body}
	target := ts.name()
	if target == nil {
		return s.errorf("invalid processing instruction target")
	}
	if string(target) != "xml" {
		return nil
	}
	if !first {
		return s.errorf("xml declaration not at the start of the document")
	}
	if v := declAttr(string(body), "version"); v != "" && v != "1.0" {
		return s.errorf("unsupported version %q; only version 1.0 is supported", v)
	}
	if enc := declAttr(string(body), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return s.errorf("encoding %q is not supported (use UTF-8)", enc)
	}
	return nil
}

// declAttr finds name="value" in an XML declaration.
func declAttr(body, name string) string {
	i := strings.Index(body, name)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(body[i+len(name):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	end := strings.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			return
		}
		s.pos++
	}
}

// name reads an XML name at pos (nil if there is none).
func (s *scanner) name() []byte {
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c < utf8.RuneSelf {
			if !nameByte[c] || (s.pos == start && (c == '-' || c == '.' || c >= '0' && c <= '9')) {
				break
			}
			s.pos++
			continue
		}
		r, size := utf8.DecodeRune(s.data[s.pos:])
		if r == utf8.RuneError || !isNameRune(r, s.pos == start) {
			break
		}
		s.pos += size
	}
	if s.pos == start {
		return nil
	}
	return s.data[start:s.pos]
}

// qname reads an element or attribute name: an XML name with at most one
// colon, as encoding/xml requires of a prefixed name (nil if there is none).
func (s *scanner) qname() []byte {
	n := s.name()
	if i := bytes.IndexByte(n, ':'); i >= 0 && bytes.IndexByte(n[i+1:], ':') >= 0 {
		return nil
	}
	return n
}

// startTag reads the rest of a start tag after '<'.
func (s *scanner) startTag() (string, []xml.Attr, bool, error) {
	nb := s.qname()
	if nb == nil {
		return "", nil, false, s.errorf("expected element name after <")
	}
	qname := s.sub(s.pos-len(nb), s.pos)
	if cap(s.attrs)-len(s.attrs) < 16 {
		s.attrs = make([]xml.Attr, 0, 4096)
	}
	first := len(s.attrs)
	for {
		s.space() // encoding/xml also takes attributes with no space between them
		if s.pos >= len(s.data) {
			return "", nil, false, s.errorf("unexpected end of file in element <%s>", qname)
		}
		switch s.data[s.pos] {
		case '>':
			s.pos++
			return qname, s.attrs[first:len(s.attrs):len(s.attrs)], false, nil
		case '/':
			if s.pos+1 >= len(s.data) || s.data[s.pos+1] != '>' {
				return "", nil, false, s.errorf("expected /> in element <%s>", qname)
			}
			s.pos += 2
			return qname, s.attrs[first:len(s.attrs):len(s.attrs)], true, nil
		}
		an := s.qname()
		if an == nil {
			return "", nil, false, s.errorf("expected attribute name in element <%s>", qname)
		}
		aq := s.sub(s.pos-len(an), s.pos)
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != '=' {
			return "", nil, false, s.errorf("attribute name %s without = in element <%s>", aq, qname)
		}
		s.pos++
		s.space()
		if s.pos >= len(s.data) || (s.data[s.pos] != '"' && s.data[s.pos] != '\'') {
			return "", nil, false, s.errorf("unquoted or missing attribute value in element <%s>", qname)
		}
		q := s.data[s.pos]
		end := bytes.IndexByte(s.data[s.pos+1:], q)
		if end < 0 {
			return "", nil, false, s.errorf("unterminated attribute value in element <%s>", qname)
		}
		raw := s.data[s.pos+1 : s.pos+1+end]
		if bytes.IndexByte(raw, '<') >= 0 {
			return "", nil, false, s.errorf("unescaped < inside attribute value")
		}
		var val string
		if bytes.IndexByte(raw, '&') < 0 {
			if err := checkChars(raw); err != nil {
				return "", nil, false, s.errorf("%v", err)
			}
			val = s.sub(s.pos+1, s.pos+1+end)
		} else {
			v, err := unescape(raw)
			if err != nil {
				return "", nil, false, s.errorf("%v", err)
			}
			val = v
		}
		s.advance(s.pos + 1 + end + 1)
		p, l := splitName(aq)
		s.attrs = append(s.attrs, xml.Attr{Name: xml.Name{Space: p, Local: l}, Value: val})
	}
}

// text reads character data up to end and returns it unescaped.
func (s *scanner) text(end int, inRoot bool) ([]byte, error) {
	raw := s.data[s.pos:end]
	line := s.line
	s.advance(end)
	if bytes.Contains(raw, []byte("]]>")) {
		return nil, &SyntaxError{Line: line, Msg: "unescaped ]]> not in CDATA section"}
	}
	if bytes.IndexByte(raw, '&') < 0 {
		if err := checkChars(raw); err != nil {
			return nil, &SyntaxError{Line: line, Msg: err.Error()}
		}
		return raw, nil
	}
	v, err := unescape(raw)
	if err != nil {
		return nil, &SyntaxError{Line: line, Msg: err.Error()}
	}
	return []byte(v), nil
}

// unescape decodes the predefined entities and character references; any
// other entity is an error (there are no DTDs to declare one).
func unescape(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '&') < 0 {
		if err := checkChars(raw); err != nil {
			return "", err
		}
		return string(raw), nil
	}
	var b strings.Builder
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '&')
		if i < 0 {
			i = len(raw)
		}
		if err := checkChars(raw[:i]); err != nil {
			return "", err
		}
		b.Write(raw[:i])
		raw = raw[i:]
		if len(raw) == 0 {
			break
		}
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 {
			return "", fmt.Errorf("invalid character entity (no semicolon)")
		}
		ent := string(raw[1:semi])
		raw = raw[semi+1:]
		switch ent {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "apos":
			b.WriteByte('\'')
		case "quot":
			b.WriteByte('"')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ent, "#x"):
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			case strings.HasPrefix(ent, "#"):
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			default:
				return "", fmt.Errorf("invalid character entity &%s;", ent)
			}
			if err != nil || len(ent) < 2 || ent[1] == '+' || ent[1] == '-' || !isXMLChar(rune(n)) {
				return "", fmt.Errorf("invalid character entity &%s;", ent)
			}
			b.WriteRune(rune(n))
		}
	}
	return b.String(), nil
}

// checkChars rejects bytes that are not UTF-8 or not XML characters.
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("illegal character code %U", rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return fmt.Errorf("illegal character code %U", r)
		}
		i += size
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

var nameByte = func() (t [utf8.RuneSelf]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t[':'], t['-'], t['.'] = true, true, true, true
	return t
}()

// isNameRune: letters start a name; digits and combining marks may follow
// (XML 1.0 name characters, outside ASCII).
func isNameRune(r rune, first bool) bool {
	if unicode.IsLetter(r) {
		return true
	}
	return !first && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || r == 0xB7)
}
