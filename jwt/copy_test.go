package jwt

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/typedauth/auth"
)

// copyAll is a claims type with a field of every kind the copier handles.
type copyAll struct {
	RegisteredClaims
	Name    string            `json:"name"`
	Age     int               `json:"age"`
	Admin   bool              `json:"admin"`
	Ratio   float64           `json:"ratio"`
	Groups  []string          `json:"groups"`
	Roles   map[string][]int  `json:"roles"`
	Extra   any               `json:"extra"`
	Items   []copyItem        `json:"items"`
	Ptr     *copyItem         `json:"ptr"`
	Pair    [2]*string        `json:"pair"`
	Flat    [3]int            `json:"flat"`
	Seen    time.Time         `json:"seen"`
	Nested  map[string]any    `json:"nested"`
	Strings map[string]string `json:"strings"`
	hidden  int               // unexported but flat: copied by assignment
}

type copyItem struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
}

// shared reports the first piece of memory that a and b, values of the
// same type, both reach and that a holder could change: a pointer, the
// backing array of a non-empty slice, a map, or such a piece inside an
// interface's value. It returns "" when there is none.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for it := a.MapRange(); it.Next(); {
			if bv := b.MapIndex(it.Key()); bv.IsValid() {
				if p := shared(it.Value(), bv, path+"."+it.Key().String()); p != "" {
					return p
				}
			}
		}
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Array:
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkCopy copies v with the copier of T and checks that the copy equals
// v and shares nothing changeable with it.
func checkCopy[T any](t *testing.T, v T) {
	t.Helper()
	f, ok := copierOf(reflect.TypeFor[T]())
	if !ok {
		t.Fatalf("%T cannot be copied", v)
	}
	var c T
	if f == nil {
		c = v
	} else if !f(reflect.ValueOf(&c).Elem(), reflect.ValueOf(&v).Elem()) {
		t.Fatalf("copying %+v failed", v)
	}
	if !reflect.DeepEqual(c, v) {
		t.Fatalf("copy %+v; want %+v", c, v)
	}
	if p := shared(reflect.ValueOf(&c).Elem(), reflect.ValueOf(&v).Elem(), "P"); p != "" {
		t.Fatalf("the copy shares %s with the original", p)
	}
	// The copy's slices have no spare capacity: it holds at most what
	// the original holds.
	if hc, hv := heldBytes(reflect.ValueOf(&c).Elem()), heldBytes(reflect.ValueOf(&v).Elem()); hc > hv {
		t.Fatalf("the copy holds %d bytes, the original %d", hc, hv)
	}
}

func TestCopierCopiesDeeply(t *testing.T) {
	one, two := "one", "two"
	exp := gojwt.NewNumericDate(time.Unix(1700000000, 0))
	v := copyAll{
		RegisteredClaims: RegisteredClaims{Subject: "alice", Audience: gojwt.ClaimStrings{"a", "b"}, ExpiresAt: exp,
			Scp: []any{"x", "y"}},
		Name: "n", Age: 3, Admin: true, Ratio: 0.5,
		Groups: []string{"g1", "g2"}, Roles: map[string][]int{"r": {1, 2}},
		Extra: map[string]any{"k": []any{1.0, "s", true, nil, map[string]any{"d": json.Number("4")}}},
		Items: []copyItem{{ID: "i", Tags: []string{"t"}}}, Ptr: &copyItem{ID: "p", Tags: []string{"u"}},
		Pair: [2]*string{&one, &two}, Flat: [3]int{1, 2, 3}, Seen: time.Unix(5, 0).In(time.UTC),
		Nested: map[string]any{"a": map[string]any{"b": []any{"c"}}}, Strings: map[string]string{"s": "t"},
		hidden: 7,
	}
	if shared(reflect.ValueOf(v), reflect.ValueOf(v), "P") == "" {
		t.Fatal("shared finds nothing shared between a value and itself")
	}
	checkCopy(t, v)
	checkCopy(t, copyAll{})    // nil pointers, slices, maps and interfaces stay nil
	checkCopy(t, &v)           // a pointer P
	checkCopy(t, []copyAll{v}) // and a slice of them
	checkCopy(t, struct{}{})   // flat
	checkCopy(t, cachedUser{}) // the cache test's type
	if f, _ := copierOf(reflect.TypeFor[struct {
		A string
		B int64
		T time.Time
		D gojwt.NumericDate
	}]()); f != nil {
		t.Error("a struct of strings, numbers and times is not copied by assignment")
	}
}

func TestCopierRefusesWhatItCannotCopy(t *testing.T) {
	type recursive struct {
		Next *recursive
	}
	type unexportedRef struct {
		groups []string
	}
	type withFunc struct{ F func() }
	type withChan struct{ C chan int }
	type withStringer struct{ S interface{ String() string } }
	for _, typ := range []reflect.Type{
		reflect.TypeFor[recursive](), reflect.TypeFor[unexportedRef](), reflect.TypeFor[withFunc](),
		reflect.TypeFor[withChan](), reflect.TypeFor[withStringer](), reflect.TypeFor[map[*int]string](),
		reflect.TypeFor[[]func()](), reflect.TypeFor[[2]*withFunc](), reflect.TypeFor[map[string]*withChan](),
		reflect.TypeFor[*[]withStringer](),
	} {
		if _, ok := copierOf(typ); ok {
			t.Errorf("%v can be copied", typ)
		}
	}
	// An interface field that holds a value encoding/json does not
	// produce cannot be copied at run time.
	type holder struct{ X any }
	f, ok := copierOf(reflect.TypeFor[holder]())
	if !ok || f == nil {
		t.Fatal("holder cannot be copied")
	}
	for _, x := range []any{[]string{"a"}, &copyItem{}, map[string]any{"k": []int{1}}} {
		var c holder
		src := holder{X: x}
		if f(reflect.ValueOf(&c).Elem(), reflect.ValueOf(&src).Elem()) {
			t.Errorf("copied an interface holding %T", x)
		}
	}
}

// FuzzCopier decodes JSON into a claims type as the parser does, then
// checks that the copy the token cache hands a hit equals it and shares
// nothing with it.
func FuzzCopier(f *testing.F) {
	f.Add([]byte(`{"sub":"alice","aud":["a","b"],"exp":1700000000,"scp":["x"],"groups":["g"],"roles":{"r":[1]},` +
		`"extra":{"k":[1,"s",true,null,{"d":4}]},"items":[{"id":"i","tags":["t"]}],"ptr":{"id":"p"},` +
		`"pair":["one",null],"flat":[1,2,3],"seen":"2026-11-29T00:00:00Z","nested":{"a":{"b":["c"]}},"strings":{"s":"t"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"extra":[[[[]]]],"nested":{"":{}},"scp":"a b"}`))
	f.Add([]byte(`{"aud":"x","roles":{"a":null},"items":[null,{}],"extra":1e308}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v copyAll
		if json.Unmarshal(data, &v) != nil {
			return
		}
		checkCopy(t, v)
	})
}

// Recursive named types that encoding/json decodes: a tree of objects, a
// list of lists, and a struct reached through one of them.
type (
	jsonTree map[string]jsonTree
	jsonList []jsonList
	treeNode struct {
		Kids map[string]treeNode `json:"kids"`
	}
	treeUser struct {
		RegisteredClaims
		Tree  jsonTree `json:"tree"`
		Lists jsonList `json:"lists"`
		Node  treeNode `json:"node"`
	}
)

// TestTypedRecursiveNamedTypes builds a cached typed auth whose P holds
// recursive map and slice types (copierOf must refuse them, not recurse
// until the stack overflows), and checks that its hits fall back to
// decoding and stay independent.
func TestTypedRecursiveNamedTypes(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[jsonTree](), reflect.TypeFor[jsonList](),
		reflect.TypeFor[treeNode](), reflect.TypeFor[[]jsonTree](), reflect.TypeFor[treeUser]()} {
		if _, ok := copierOf(typ); ok {
			t.Errorf("recursive %v can be copied", typ)
		}
	}
	a, err := NewTyped[treeUser](hsCacheConfig(nil), WithCache(CacheOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Encode(auth.Claims{"sub": "alice", "tree": map[string]any{"a": map[string]any{"b": map[string]any{}}},
		"lists": []any{[]any{}, []any{[]any{}}}, "node": map[string]any{"kids": map[string]any{"k": map[string]any{}}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(func(w http.ResponseWriter, r *http.Request, u treeUser) {
		if _, ok := u.Tree["a"]["b"]; !ok || len(u.Tree["a"]) != 1 || len(u.Lists) != 2 || len(u.Lists[1]) != 1 || len(u.Node.Kids) != 1 {
			t.Errorf("handler sees %+v", u)
			return
		}
		u.Tree["a"]["c"] = nil
		u.Lists[1][0] = jsonList{nil}
		u.Node.Kids["x"] = treeNode{}
	})
	for range 3 {
		wantCacheStatus(t, cacheGet(h, tok), http.StatusOK, "")
	}
	if !a.cache.holds(tok) {
		t.Fatal("the token is not cached")
	}
}
