package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// discard is protojson as grpc-gateway configures it by default: unknown
// keys and enum names are dropped; everything else is decoded or refused.
var discard = protojson.UnmarshalOptions{DiscardUnknown: true}

// UnmarshalJSON decodes data into m exactly as protojson does, enum numbers
// included, except that a key m's schema lacks, or an enum name its enum
// lacks, is not dropped: it is kept as a note (an unknown field) in the
// message that held it, for Check to report at its path, e.g.
// "records[3].patient.deathDat". Anything else protojson refuses (bad
// syntax, a string for a number, a duplicate key) is still an error.
//
// It decodes once, with protojson discarding what it does not know, then
// scans the bytes once more to find what was discarded; the scan reads
// keys and enum names only, and a body without unknowns gains no note.
func UnmarshalJSON(data []byte, m proto.Message) error {
	if err := discard.Unmarshal(data, m); err != nil {
		return err
	}
	mr := m.ProtoReflect()
	if wellKnown(mr.Descriptor()) {
		return nil
	}
	s := scanner{data: data}
	s.space()
	if err := s.message(mr); err != nil {
		// protojson accepted the input, so the scanner must too.
		return fmt.Errorf("schema: scanning JSON that protojson accepted: %w", err)
	}
	return nil
}

// wellKnown reports the google.protobuf types with a JSON form of their own
// (Timestamp, Struct, Any...); protojson decodes them itself, and nothing
// is looked for inside them.
func wellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// scanner walks JSON that protojson has already accepted for a message,
// alongside the message protojson filled in.
type scanner struct {
	data []byte
	i    int
}

var errScan = errors.New("unexpected input")

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next returns the byte at the cursor, or 0 at the end.
func (s *scanner) next() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	s.space()
	if s.next() != c {
		return fmt.Errorf("%w at offset %d: want %q", errScan, s.i, c)
	}
	s.i++
	s.space()
	return nil
}

// rawString returns the string at the cursor as written, quotes included.
func (s *scanner) rawString() ([]byte, error) {
	if s.next() != '"' {
		return nil, fmt.Errorf("%w at offset %d: want a string", errScan, s.i)
	}
	start := s.i
	j := s.i + 1
	for {
		k := bytes.IndexByte(s.data[j:], '"')
		if k < 0 {
			return nil, fmt.Errorf("%w: unterminated string at offset %d", errScan, start)
		}
		j += k
		// The quote ends the string unless an odd number of backslashes precede it.
		bs := 0
		for p := j - 1; p > start && s.data[p] == '\\'; p-- {
			bs++
		}
		j++
		if bs%2 == 0 {
			break
		}
	}
	s.i = j
	return s.data[start:j], nil
}

// str returns the string at the cursor, unescaped.
func (s *scanner) str() (string, error) {
	raw, err := s.rawString()
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", err
	}
	return out, nil
}

// skip moves past the value at the cursor.
func (s *scanner) skip() error {
	switch s.next() {
	case '"':
		_, err := s.rawString()
		return err
	case '{', '[':
		depth := 0
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case '"':
				if _, err := s.rawString(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return fmt.Errorf("%w: unterminated value", errScan)
	}
	start := s.i
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if s.i == start {
				return fmt.Errorf("%w at offset %d: want a value", errScan, s.i)
			}
			return nil
		}
		s.i++
	}
	if s.i == start {
		return fmt.Errorf("%w: want a value", errScan)
	}
	return nil
}

// null reports whether the value at the cursor is null.
func (s *scanner) null() bool { return bytes.HasPrefix(s.data[s.i:], []byte("null")) }

// sequence calls item for each item of the object or array at the cursor
// (open is '{' or '['), checking the separators between items.
func (s *scanner) sequence(open, close byte, item func(index int) error) error {
	if err := s.expect(open); err != nil {
		return err
	}
	if s.next() == close {
		s.i++
		return nil
	}
	for index := 0; ; index++ {
		if err := item(index); err != nil {
			return err
		}
		s.space()
		switch s.next() {
		case ',':
			s.i++
			s.space()
		case close:
			s.i++
			return nil
		default:
			return fmt.Errorf("%w at offset %d: want , or %c", errScan, s.i, close)
		}
	}
}

// members calls fn for each member of the object at the cursor, with its
// key unescaped (valid until the next call) and the cursor on the member's
// value; fn must move past it.
func (s *scanner) members(fn func(key []byte) error) error {
	return s.sequence('{', '}', func(int) error {
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		return fn(key)
	})
}

// key returns the string at the cursor unescaped, without copying it when
// it has no escapes (keys seldom do).
func (s *scanner) key() ([]byte, error) {
	raw, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// elements calls fn for each element of the array at the cursor.
func (s *scanner) elements(fn func(index int) error) error { return s.sequence('[', ']', fn) }

// message scans the object at the cursor, which protojson decoded into m.
func (s *scanner) message(m protoreflect.Message) error {
	names := fieldNames(m.Descriptor())
	return s.members(func(key []byte) error {
		fd := names[string(key)] // "[name]", an extension, is unknown: Liaison has none
		if fd == nil {
			keep(m, note{key: string(key)})
			return s.skip()
		}
		if s.null() {
			return s.skip() // protojson leaves the field unset
		}
		switch {
		case fd.IsMap():
			return s.mapField(m, fd)
		case fd.IsList():
			return s.listField(m, fd)
		case fd.Kind() == protoreflect.EnumKind:
			return s.enum(m, fd, fd.Enum(), "")
		case fd.Message() != nil && !wellKnown(fd.Message()):
			return s.message(m.Mutable(fd).Message())
		}
		return s.skip()
	})
}

func (s *scanner) listField(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	switch {
	case fd.Kind() == protoreflect.EnumKind:
		return s.elements(func(i int) error { return s.enum(m, fd, fd.Enum(), fmt.Sprintf("[%d]", i)) })
	case fd.Message() != nil && !wellKnown(fd.Message()):
		list := m.Mutable(fd).List()
		return s.elements(func(i int) error {
			if i >= list.Len() {
				return fmt.Errorf("%w: %s has fewer elements than the JSON", errScan, fd.FullName())
			}
			return s.message(list.Get(i).Message())
		})
	}
	return s.skip()
}

func (s *scanner) mapField(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	vd := fd.MapValue()
	isEnum := vd.Kind() == protoreflect.EnumKind
	if !isEnum && (vd.Message() == nil || wellKnown(vd.Message())) {
		return s.skip()
	}
	mp := m.Mutable(fd).Map()
	return s.members(func(k []byte) error {
		key := string(k)
		if s.null() {
			return s.skip()
		}
		if isEnum {
			suffix := "[" + key + "]"
			if fd.MapKey().Kind() == protoreflect.StringKind {
				suffix = fmt.Sprintf("[%q]", key)
			}
			return s.enum(m, fd, vd.Enum(), suffix)
		}
		mk, err := mapKey(m, fd, key)
		if err != nil {
			return err
		}
		if !mp.Has(mk) {
			return fmt.Errorf("%w: %s has no key %q", errScan, fd.FullName(), key)
		}
		return s.message(mp.Mutable(mk).Message())
	})
}

// fieldNames maps the names protojson accepts for a message's fields, the
// JSON name and the proto name, to the fields; made once per message type.
func fieldNames(md protoreflect.MessageDescriptor) map[string]protoreflect.FieldDescriptor {
	if names, ok := namesByType.Load(md); ok {
		return names.(map[string]protoreflect.FieldDescriptor)
	}
	fields := md.Fields()
	names := make(map[string]protoreflect.FieldDescriptor, 2*fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		names[fd.TextName()] = fd
	}
	for i := range fields.Len() { // a JSON name wins over a proto name, as in protojson
		fd := fields.Get(i)
		names[fd.JSONName()] = fd
	}
	namesByType.Store(md, names)
	return names
}

var namesByType sync.Map // protoreflect.MessageDescriptor → map[string]protoreflect.FieldDescriptor

// mapKey parses a JSON object key as protojson parses it for fd's keys, by
// decoding a one-entry map.
func mapKey(m protoreflect.Message, fd protoreflect.FieldDescriptor, key string) (protoreflect.MapKey, error) {
	name, err := json.Marshal(fd.JSONName())
	if err != nil {
		return protoreflect.MapKey{}, err
	}
	k, err := json.Marshal(key)
	if err != nil {
		return protoreflect.MapKey{}, err
	}
	one := m.New()
	if err := discard.Unmarshal([]byte(fmt.Sprintf(`{%s:{%s:{}}}`, name, k)), one.Interface()); err != nil {
		return protoreflect.MapKey{}, err
	}
	var out protoreflect.MapKey
	one.Get(fd).Map().Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool { out = k; return false })
	return out, nil
}

// enum keeps, in m, an enum name at the cursor that ed lacks; numbers are
// decoded by protojson and checked by Check.
func (s *scanner) enum(m protoreflect.Message, fd protoreflect.FieldDescriptor, ed protoreflect.EnumDescriptor, suffix string) error {
	if s.next() != '"' || ed.FullName() == "google.protobuf.NullValue" {
		return s.skip()
	}
	name, err := s.str()
	if err != nil {
		return err
	}
	if ed.Values().ByName(protoreflect.Name(name)) == nil {
		keep(m, note{field: fd.Number(), suffix: suffix, name: name})
	}
	return nil
}

// keep adds a note to m's unknown fields.
func keep(m protoreflect.Message, n note) {
	m.SetUnknown(n.append(m.GetUnknown()))
}
