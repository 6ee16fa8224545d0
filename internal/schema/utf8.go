package schema

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// InvalidUTF8 stands in a string for bytes that were not UTF-8. Protobuf
// and JSON decoders refuse a whole message for one such string; repairing
// the input with this marker lets the message decode, so that the record
// holding it is rejected alone, naming its field (rule text.utf8), and
// the other records of a partial request are kept. It starts with NUL,
// which no accepted text holds.
const InvalidUTF8 = "\x00invalid UTF-8\x00"

// RepairUTF8 rewrites the protobuf wire bytes b of a message md so that
// every string field is valid UTF-8: each run of bytes that is not becomes
// InvalidUTF8. It reports whether anything was replaced; b is not changed.
// It returns nil for input that is not well-formed wire data (the decoder
// then reports it as it would have).
func RepairUTF8(b []byte, md protoreflect.MessageDescriptor) ([]byte, bool) {
	out, changed, ok := repairMessage(nil, b, md)
	if !ok {
		return nil, false
	}
	return out, changed
}

func repairMessage(out, b []byte, md protoreflect.MessageDescriptor) ([]byte, bool, bool) {
	changed := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, false, false
		}
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil || (fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.MessageKind) {
			out = append(out, b[:n+m]...)
			b = b[n+m:]
			continue
		}
		v, _ := protowire.ConsumeBytes(b[n:])
		out = protowire.AppendTag(out, num, typ)
		switch fd.Kind() {
		case protoreflect.StringKind:
			if utf8.Valid(v) {
				out = protowire.AppendBytes(out, v)
			} else {
				out = protowire.AppendBytes(out, replaceInvalid(v, InvalidUTF8))
				changed = true
			}
		case protoreflect.MessageKind:
			inner, c, ok := repairMessage(nil, v, fd.Message())
			if !ok {
				return nil, false, false
			}
			out = protowire.AppendBytes(out, inner)
			changed = changed || c
		}
		b = b[n+m:]
	}
	return out, changed, true
}

// replaceInvalid replaces each run of bytes of s that is not UTF-8 by marker.
func replaceInvalid(s []byte, marker string) []byte {
	var out []byte
	bad := false
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size <= 1 {
			if !bad {
				out = append(out, marker...)
			}
			bad = true
			s = s[1:]
			continue
		}
		bad = false
		out = append(out, s[:size]...)
		s = s[size:]
	}
	return out
}

// RepairJSONUTF8 does for JSON text what RepairUTF8 does for wire data:
// each run of bytes that is not UTF-8 becomes InvalidUTF8, written as a
// JSON escape (such bytes can only stand inside strings in JSON that is
// otherwise well formed). It reports whether anything was replaced.
func RepairJSONUTF8(data []byte) ([]byte, bool) {
	if utf8.Valid(data) {
		return data, false
	}
	return replaceInvalid(data, `\u0000invalid UTF-8\u0000`), true
}
