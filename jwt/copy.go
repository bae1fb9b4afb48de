package jwt

import (
	"encoding/json"
	"reflect"
	"time"
)

// copyFunc deep-copies src into dst, a settable value of the same type. It
// reports false when src holds a dynamic value it cannot copy, such as an
// interface field set by a custom UnmarshalJSON to a type of its own.
type copyFunc func(dst, src reflect.Value) bool

var timeType = reflect.TypeFor[time.Time]()

// copierOf returns how to copy values of t so that the copy shares nothing
// that its holder could change with the original: pointers, slices, maps
// and interfaces are copied, down to strings and numbers, which are
// immutable or copied by assignment. f is nil when assignment alone copies
// deeply (t is flat); ok is false when t cannot be copied so (it holds a
// func, a channel, an unexported pointer, slice, map or interface, or is
// recursive). The token cache uses it to hand every hit of a [TypedAuth]
// its own P without decoding the payload again.
func copierOf(t reflect.Type) (f copyFunc, ok bool) {
	return copier(t, map[reflect.Type]bool{})
}

func copier(t reflect.Type, seen map[reflect.Type]bool) (copyFunc, bool) {
	if f, ok := kindCopier(t, seen); ok {
		return f, true
	}
	return nil, false
}

// kindCopier is copier by the kind of t; its copyFunc means nothing when
// it reports false.
func kindCopier(t reflect.Type, seen map[reflect.Type]bool) (copyFunc, bool) {
	if t == timeType {
		return nil, true // its *Location is never changed once made
	}
	switch t.Kind() {
	case reflect.Array, reflect.Struct, reflect.Pointer, reflect.Slice, reflect.Map:
		// A named type can reach itself through any of these (type T
		// map[string]T): refuse it rather than recurse without end.
		if seen[t] {
			return nil, false
		}
		seen[t] = true
		defer delete(seen, t)
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return nil, true
	case reflect.Array:
		elem, ok := copier(t.Elem(), seen)
		if elem == nil {
			return nil, ok
		}
		return func(dst, src reflect.Value) bool {
			for i := range src.Len() {
				if !elem(dst.Index(i), src.Index(i)) {
					return false
				}
			}
			return true
		}, ok
	case reflect.Struct:
		return structCopier(t, seen)
	case reflect.Pointer:
		elem, ok := copier(t.Elem(), seen)
		return reference(func(src reflect.Value) (reflect.Value, bool) {
			p := reflect.New(t.Elem())
			return p, assign(elem, p.Elem(), src.Elem())
		}), ok
	case reflect.Slice:
		elem, ok := copier(t.Elem(), seen)
		return reference(func(src reflect.Value) (reflect.Value, bool) {
			s := reflect.MakeSlice(t, src.Len(), src.Len())
			if elem == nil {
				reflect.Copy(s, src)
			}
			for i := 0; elem != nil && i < src.Len(); i++ {
				if !elem(s.Index(i), src.Index(i)) {
					return s, false
				}
			}
			return s, true
		}), ok
	case reflect.Map:
		key, ok := copier(t.Key(), seen)
		if key != nil {
			ok = false // keys are copied by assignment
		}
		elem, elemOK := copier(t.Elem(), seen)
		return reference(func(src reflect.Value) (reflect.Value, bool) {
			m := reflect.MakeMapWithSize(t, src.Len())
			v := reflect.New(t.Elem()).Elem()
			for it := src.MapRange(); it.Next(); {
				if !assign(elem, v, it.Value()) {
					return m, false
				}
				m.SetMapIndex(it.Key(), v)
			}
			return m, true
		}), ok && elemOK
	case reflect.Interface:
		// encoding/json decodes into empty interfaces only.
		return reference(func(src reflect.Value) (reflect.Value, bool) {
			v, ok := copyJSONValue(src.Elem().Interface())
			return reflect.ValueOf(v), ok
		}), t.NumMethod() == 0
	}
	return nil, false // func, chan, unsafe.Pointer
}

// reference copies a pointer, slice, map or interface: nil stays nil, and
// anything else is replaced by what fresh makes of it.
func reference(fresh func(src reflect.Value) (reflect.Value, bool)) copyFunc {
	return func(dst, src reflect.Value) bool {
		if src.IsNil() {
			dst.SetZero()
			return true
		}
		v, ok := fresh(src)
		if ok {
			dst.Set(v)
		}
		return ok
	}
}

// assign copies src into dst with f, or by assignment when f is nil.
func assign(f copyFunc, dst, src reflect.Value) bool {
	if f == nil {
		dst.Set(src)
		return true
	}
	return f(dst, src)
}

// structCopier copies the fields of t that assignment does not copy deeply;
// they must be exported, for reflect to set them.
func structCopier(t reflect.Type, seen map[reflect.Type]bool) (copyFunc, bool) {
	type field struct {
		i int
		f copyFunc
	}
	var deep []field
	for i := range t.NumField() {
		sf := t.Field(i)
		f, ok := copier(sf.Type, seen)
		switch {
		case !ok, f != nil && !sf.IsExported():
			return nil, false
		case f != nil:
			deep = append(deep, field{i, f})
		}
	}
	if len(deep) == 0 {
		return nil, true
	}
	return func(dst, src reflect.Value) bool {
		dst.Set(src) // the fields that assignment copies
		for _, d := range deep {
			if !d.f(dst.Field(d.i), src.Field(d.i)) {
				return false
			}
		}
		return true
	}, true
}

// copyJSONValue copies a value that encoding/json decodes into an any
// (maps, slices, strings, numbers, booleans), and reports false for any
// other type.
func copyJSONValue(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			c, ok := copyJSONValue(x)
			if !ok {
				return nil, false
			}
			m[k] = c
		}
		return m, true
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			c, ok := copyJSONValue(x)
			if !ok {
				return nil, false
			}
			s[i] = c
		}
		return s, true
	case nil, string, float64, bool, json.Number:
		return v, true
	}
	return nil, false
}

// heldBytes estimates the memory that v, a value the copier copied, holds
// beyond its own size: the backing arrays of its slices, its maps, what
// its pointers and interfaces point to, the bytes of its strings. The
// token cache counts it against MaxBytes; the JSON payload's length says
// little about it (an element of []any takes 24 bytes for the 2 of "1,").
// A copied value is a tree: nothing is reached twice.
func heldBytes(v reflect.Value) int64 {
	t := v.Type()
	if t == timeType {
		return 0 // its *Location is shared, not held
	}
	switch t.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += heldBytes(v.Index(i))
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += heldBytes(v.Field(i))
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(t.Elem().Size()) + heldBytes(v.Elem())
	case reflect.Slice:
		n := int64(v.Cap()) * int64(t.Elem().Size())
		for i := range v.Len() {
			n += heldBytes(v.Index(i))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		n := mapBytes(v.Len(), int64(t.Key().Size()+t.Elem().Size()))
		for it := v.MapRange(); it.Next(); {
			n += heldBytes(it.Key()) + heldBytes(it.Value())
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		switch e.Kind() {
		case reflect.Map, reflect.Pointer:
			return heldBytes(e) // held in the interface's data word
		}
		return int64(e.Type().Size()) + heldBytes(e) // boxed
	}
	return 0
}

// mapBytes estimates the memory of a map of n entries whose key and value
// take kv bytes, besides what they point to: its slots hold a key, a value
// and a control byte; tables are at most 7/8 full and grow by doubling,
// and a small map has 8 slots.
func mapBytes(n int, kv int64) int64 {
	return 48 + (kv+1)*int64(max(8, 2*n))
}
