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
	if t == timeType {
		return nil, true // its *Location is never changed once made
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
		}, true
	case reflect.Struct:
		return structCopier(t, seen)
	case reflect.Pointer:
		elem, ok := copier(t.Elem(), seen)
		if !ok {
			return nil, false
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				dst.SetZero()
				return true
			}
			p := reflect.New(t.Elem())
			if elem == nil {
				p.Elem().Set(src.Elem())
			} else if !elem(p.Elem(), src.Elem()) {
				return false
			}
			dst.Set(p)
			return true
		}, true
	case reflect.Slice:
		elem, ok := copier(t.Elem(), seen)
		if !ok {
			return nil, false
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				dst.SetZero()
				return true
			}
			s := reflect.MakeSlice(t, src.Len(), src.Len())
			if elem == nil {
				reflect.Copy(s, src)
			} else {
				for i := range src.Len() {
					if !elem(s.Index(i), src.Index(i)) {
						return false
					}
				}
			}
			dst.Set(s)
			return true
		}, true
	case reflect.Map:
		key, ok := copier(t.Key(), seen)
		if !ok || key != nil {
			return nil, false
		}
		elem, ok := copier(t.Elem(), seen)
		if !ok {
			return nil, false
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				dst.SetZero()
				return true
			}
			m := reflect.MakeMapWithSize(t, src.Len())
			v := reflect.New(t.Elem()).Elem()
			for it := src.MapRange(); it.Next(); {
				if elem == nil {
					v.Set(it.Value())
				} else if !elem(v, it.Value()) {
					return false
				}
				m.SetMapIndex(it.Key(), v)
			}
			dst.Set(m)
			return true
		}, true
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, false // encoding/json decodes into empty interfaces only
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				dst.SetZero()
				return true
			}
			v, ok := copyJSONValue(src.Elem().Interface())
			if ok {
				dst.Set(reflect.ValueOf(v))
			}
			return ok
		}, true
	}
	return nil, false // func, chan, unsafe.Pointer
}

// structCopier copies the fields of t that assignment does not copy deeply;
// they must be exported, for reflect to set them.
func structCopier(t reflect.Type, seen map[reflect.Type]bool) (copyFunc, bool) {
	if seen[t] {
		return nil, false // recursive: not decoded from a token's claims
	}
	seen[t] = true
	defer delete(seen, t)
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
