// Package schema holds API messages to the schema this server was built
// from. Check finds what a message carries that the schema does not know:
// unknown fields (a binary message's field numbers, or JSON keys kept by
// UnmarshalJSON) and enum values the enum does not define (numbers, or JSON
// names kept by UnmarshalJSON). UnmarshalJSON decodes JSON as protojson
// does but keeps those things, where protojson would drop them or fail the
// whole message, so that Check reports each at its own path.
//
// The rules are the API's: the server refuses a request that breaks them,
// except inside ingest records, which ingest rejects one by one (rules
// field.unknown and enum.unknown). The package imports only protobuf.
package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rule names, as reported in rejections and field violations.
const (
	RuleField = "field.unknown"
	RuleEnum  = "enum.unknown"
)

// Problem is one thing in a message its schema does not know.
type Problem struct {
	// Path from the checked message in proto field names, e.g.
	// "encounter.lines[0].code"; an unknown field is named as it was sent:
	// its JSON key, or over gRPC its field number ("patient.12").
	Path    string
	Rule    string
	Message string
}

// Check returns the problems in m and every message below it, each
// message's own before those of the messages it holds, in field order.
// Messages whose type skip reports are not looked into (nil skips none).
func Check(m protoreflect.Message, skip func(protoreflect.MessageDescriptor) bool) []Problem {
	c := checker{skip: skip}
	c.message(m)
	return c.problems
}

type checker struct {
	skip     func(protoreflect.MessageDescriptor) bool
	path     []step
	problems []Problem
}

// step is one element of the path to the message being checked: a field,
// with an index into a list or a key into a map.
type step struct {
	name  protoreflect.Name
	index int // -1 when none
	key   protoreflect.MapKey
	isKey bool
}

func (c *checker) push(s step) { c.path = append(c.path, s) }
func (c *checker) pop()        { c.path = c.path[:len(c.path)-1] }

// at renders the current path followed by last (a segment, or "").
func (c *checker) at(last string) string {
	var b strings.Builder
	for i, s := range c.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(s.name))
		switch {
		case s.index >= 0:
			fmt.Fprintf(&b, "[%d]", s.index)
		case s.isKey:
			b.WriteString(keySuffix(s.key))
		}
	}
	if last != "" {
		if b.Len() > 0 && last[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(last)
	}
	return b.String()
}

func keySuffix(k protoreflect.MapKey) string {
	if s, ok := k.Interface().(string); ok {
		return "[" + strconv.Quote(s) + "]"
	}
	return "[" + k.String() + "]"
}

func (c *checker) add(path, rule, msg string) {
	c.problems = append(c.problems, Problem{Path: path, Rule: rule, Message: msg})
}

func (c *checker) message(m protoreflect.Message) {
	md := m.Descriptor()
	if c.skip != nil && c.skip(md) {
		return
	}
	c.unknown(m)
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if k := fd.Kind(); k != protoreflect.EnumKind && k != protoreflect.MessageKind && k != protoreflect.GroupKind {
			continue // scalars hold nothing unknown; maps are messages (their entries)
		}
		if !m.Has(fd) || fd.Message() != nil && !fd.IsMap() && c.skip != nil && c.skip(fd.Message()) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			vd := fd.MapValue()
			if vd.Kind() != protoreflect.EnumKind && vd.Kind() != protoreflect.MessageKind {
				continue
			}
			// A checker of its own, so that the closure Range keeps does
			// not make every checker escape to the heap.
			sub := &checker{skip: c.skip, path: append([]step(nil), c.path...)}
			v.Map().Range(func(key protoreflect.MapKey, v protoreflect.Value) bool {
				sub.push(step{name: fd.Name(), index: -1, key: key, isKey: true})
				sub.value(fd.Name(), vd, v)
				sub.pop()
				return true
			})
			c.problems = append(c.problems, sub.problems...)
		case fd.IsList():
			l := v.List()
			for j := range l.Len() {
				c.push(step{name: fd.Name(), index: j})
				c.value(fd.Name(), fd, l.Get(j))
				c.pop()
			}
		default:
			c.push(step{name: fd.Name(), index: -1})
			c.value(fd.Name(), fd, v)
			c.pop()
		}
	}
}

// value checks one enum value or message of field at the current path; vd
// describes the value (the field itself, or a map's value).
func (c *checker) value(field protoreflect.Name, vd protoreflect.FieldDescriptor, v protoreflect.Value) {
	if vd.Kind() == protoreflect.EnumKind {
		ed := vd.Enum()
		if n := v.Enum(); ed.Values().ByNumber(n) == nil {
			c.add(c.at(""), RuleEnum, EnumMessage(string(field), strconv.Itoa(int(n)), ed))
		}
		return
	}
	c.message(v.Message())
}

// unknown reports a message's unknown fields at the current path.
func (c *checker) unknown(m protoreflect.Message) {
	for _, p := range Unknown(m) {
		c.add(c.at(p.Path), p.Rule, p.Message)
	}
}

// Unknown returns the problems m's own unknown fields hold, with paths
// relative to m: the notes UnmarshalJSON kept (an unknown key, or an enum
// name at its field), and field numbers m's schema lacks (once each).
// Messages below m are not looked at: Check does that, and ingest, which
// walks records with typed code for speed, calls Unknown on each message.
func Unknown(m protoreflect.Message) []Problem {
	raw := m.GetUnknown()
	if len(raw) == 0 {
		return nil
	}
	md := m.Descriptor()
	var out []Problem
	var seen []protowire.Number
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeField(raw)
		if n < 0 {
			out = append(out, Problem{"", RuleField, fmt.Sprintf("malformed fields in %s", md.FullName())})
			break
		}
		field := raw[:n]
		raw = raw[n:]
		if num == noteNumber && typ == protowire.BytesType {
			if nt, ok := parseNote(field); ok {
				if p, ok := nt.problem(md); ok {
					out = append(out, p)
					continue
				}
			}
		}
		if slices.Contains(seen, num) {
			continue
		}
		seen = append(seen, num)
		out = append(out, Problem{strconv.Itoa(int(num)), RuleField,
			fmt.Sprintf("unknown field number %d: %s has no field %d (is the client built from a newer schema?)", num, md.FullName(), num)})
	}
	return out
}

// problem is what a note reports, relative to the message md that holds
// it; false when the note does not fit md.
func (n note) problem(md protoreflect.MessageDescriptor) (Problem, bool) {
	if n.field == 0 {
		return Problem{keySegment(n.key), RuleField, unknownKeyMessage(n.key, md)}, true
	}
	fd := md.Fields().ByNumber(n.field)
	if fd == nil {
		return Problem{}, false
	}
	ed := fd.Enum()
	if fd.IsMap() {
		ed = fd.MapValue().Enum()
	}
	if ed == nil {
		return Problem{}, false
	}
	return Problem{string(fd.Name()) + n.suffix, RuleEnum, EnumMessage(string(fd.Name()), strconv.Quote(n.name), ed)}, true
}

// keySegment is a JSON key as a path segment: as sent when it is a plain
// name, else quoted (so "" or "a.b" cannot blur the path).
func keySegment(key string) string {
	for i, r := range key {
		if r != '_' && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return strconv.Quote(key)
		}
	}
	if key == "" {
		return `""`
	}
	return key
}

// EnumMessage says that value (a quoted name or a number) of field is not a
// value of ed, and lists the values it accepts with their numbers. The zero
// value is left out when it is the conventional *_UNSPECIFIED, which means
// the same as leaving the field out.
func EnumMessage(field, value string, ed protoreflect.EnumDescriptor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is not one of ", field, value)
	vals := ed.Values()
	first := true
	for i := range vals.Len() {
		v := vals.Get(i)
		if v.Number() == 0 && strings.HasSuffix(string(v.Name()), "_UNSPECIFIED") {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		fmt.Fprintf(&b, "%s (%d)", v.Name(), v.Number())
	}
	return b.String()
}

// unknownKeyMessage names an unknown JSON key, the field it was most
// likely meant to be, and the fields md has.
func unknownKeyMessage(key string, md protoreflect.MessageDescriptor) string {
	fields := md.Fields()
	names := make([]string, fields.Len())
	best, bestDist := "", 3 // suggest only close spellings of keys of some length
	if len(key) < 3 {
		bestDist = 0
	}
	for i := range fields.Len() {
		names[i] = fields.Get(i).JSONName()
		for _, name := range []string{names[i], string(fields.Get(i).Name())} {
			if d := distance(strings.ToLower(key), strings.ToLower(name)); d < bestDist {
				best, bestDist = names[i], d
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "unknown field %q", key)
	if best != "" {
		fmt.Fprintf(&b, " (did you mean %q?)", best)
	}
	fmt.Fprintf(&b, "; %s has %s", md.Name(), strings.Join(names, ", "))
	return b.String()
}

// distance is the Levenshtein distance between a and b (bytes), capped at
// 3: only whether it is small matters.
func distance(a, b string) int {
	if d := len(a) - len(b); d > 2 || d < -2 {
		return 3
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], 3)
}

// noteNumber is the field number under which UnmarshalJSON keeps, in the
// message that held it, a JSON key or enum name the schema does not know:
// the highest valid field number, which no Liaison message uses (a test
// checks), so the note travels with the message to the server, which
// reports it like any unknown field.
const noteNumber protowire.Number = protowire.MaxValidNumber

// note is a JSON key the message lacks (field 0), or an enum name the enum
// of field lacks, at suffix ("", "[2]" in a list, "[\"k\"]" in a map).
type note struct {
	key    string
	field  protoreflect.FieldNumber
	suffix string
	name   string
}

// Note fields, inside the note's bytes.
const (
	noteKey    protowire.Number = 1
	noteField  protowire.Number = 2
	noteSuffix protowire.Number = 3
	noteName   protowire.Number = 4
)

func (n note) append(b []byte) []byte {
	var in []byte
	if n.field == 0 {
		in = protowire.AppendTag(in, noteKey, protowire.BytesType)
		in = protowire.AppendString(in, n.key)
	} else {
		in = protowire.AppendTag(in, noteField, protowire.VarintType)
		in = protowire.AppendVarint(in, uint64(n.field))
		in = protowire.AppendTag(in, noteSuffix, protowire.BytesType)
		in = protowire.AppendString(in, n.suffix)
		in = protowire.AppendTag(in, noteName, protowire.BytesType)
		in = protowire.AppendString(in, n.name)
	}
	b = protowire.AppendTag(b, noteNumber, protowire.BytesType)
	return protowire.AppendBytes(b, in)
}

// parseNote reads one note field (tag included).
func parseNote(field []byte) (note, bool) {
	_, _, n := protowire.ConsumeTag(field)
	in, m := protowire.ConsumeBytes(field[n:])
	if m < 0 {
		return note{}, false
	}
	var nt note
	var hasKey bool
	for len(in) > 0 {
		num, typ, n := protowire.ConsumeTag(in)
		if n < 0 {
			return note{}, false
		}
		in = in[n:]
		switch {
		case num == noteField && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(in)
			if n < 0 || v == 0 || v > uint64(protowire.MaxValidNumber) {
				return note{}, false
			}
			nt.field, in = protoreflect.FieldNumber(v), in[n:]
		case typ == protowire.BytesType && (num == noteKey || num == noteSuffix || num == noteName):
			v, n := protowire.ConsumeBytes(in)
			if n < 0 {
				return note{}, false
			}
			switch num {
			case noteKey:
				nt.key, hasKey = string(v), true
			case noteSuffix:
				nt.suffix = string(v)
			case noteName:
				nt.name = string(v)
			}
			in = in[n:]
		default:
			return note{}, false
		}
	}
	if hasKey == (nt.field != 0) {
		return note{}, false // exactly one of a key or an enum field
	}
	return nt, true
}
