package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"iamd"
)

// Every field of iamd.User survives packing, each set to a value of its own: a field
// added to User and not to the packed format fails here.
func TestPackedUserKeepsEveryField(t *testing.T) {
	var u iamd.User
	v := reflect.ValueOf(&u).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		moment := time.UnixMicro(int64(1_700_000_000_000_000 + i*1_000_003)).UTC()
		switch f.Kind() {
		case reflect.String:
			f.SetString(v.Type().Field(i).Name + " ü")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000*i + 7))
		case reflect.Pointer: // *time.Time
			f.Set(reflect.ValueOf(&moment))
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(moment))
		case reflect.Slice:
			switch f.Interface().(type) {
			case []string:
				f.Set(reflect.ValueOf([]string{"a" + v.Type().Field(i).Name, "b"}))
			case []iamd.GroupRef:
				f.Set(reflect.ValueOf([]iamd.GroupRef{{ID: "g" + v.Type().Field(i).Name, Name: "G"}, {ID: "h", Name: ""}}))
			default:
				t.Fatalf("field %s: a slice the test does not know", v.Type().Field(i).Name)
			}
		default:
			t.Fatalf("field %s: a kind the test does not know", v.Type().Field(i).Name)
		}
		if f.IsZero() {
			t.Fatalf("field %s left zero", v.Type().Field(i).Name)
		}
	}
	if got := unpackUser(packUser(&u)); !reflect.DeepEqual(*got, u) {
		t.Errorf("unpacked:\n%+v\nwant:\n%+v", *got, u)
	}
	// Each bool alone, so none is read from another's bit.
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.Bool {
			continue
		}
		var one iamd.User
		reflect.ValueOf(&one).Elem().Field(i).SetBool(true)
		if got := unpackUser(packUser(&one)); !reflect.DeepEqual(*got, one) {
			t.Errorf("%s alone: unpacked %+v", v.Type().Field(i).Name, *got)
		}
	}
	// Nil and empty slices stay apart: the faces answer them differently.
	empty := iamd.User{Roles: []string{}, Groups: []iamd.GroupRef{}, CreatedAt: time.UnixMicro(-5).UTC(), UpdatedAt: time.UnixMicro(0).UTC()}
	got := unpackUser(packUser(&empty))
	if got.Roles == nil || got.Groups == nil || got.Privileges != nil || got.InheritedGroups != nil || !reflect.DeepEqual(*got, empty) {
		t.Errorf("empty and nil slices: unpacked %+v", *got)
	}
}

func BenchmarkUnpackUser(b *testing.B) {
	now := time.UnixMicro(time.Now().UnixMicro()).UTC()
	packed := packUser(&iamd.User{ID: iamd.NewID(), InstanceID: "inst", LoginName: "user-0000001@example.com", DisplayName: "User 1",
		Email: "user-0000001@example.com", Status: iamd.UserActive, CreatedAt: now, UpdatedAt: now, Version: 3,
		Roles: []string{}, Privileges: []string{}, Groups: []iamd.GroupRef{}, InheritedGroups: []iamd.GroupRef{}})
	b.ReportMetric(float64(len(packed)), "packed-bytes")
	for b.Loop() {
		unpackUser(packed)
	}
}

// The memory hands out copies of instances by value: a field that shares memory (a
// slice, a map, a pointer) would let one caller's change reach the next.
func TestInstanceCopiesShareNothing(t *testing.T) {
	typ := reflect.TypeFor[iamd.Instance]()
	var check func(reflect.Type, string)
	check = func(t2 reflect.Type, path string) {
		switch t2.Kind() {
		case reflect.Struct:
			if t2 == reflect.TypeFor[time.Time]() {
				return
			}
			for i := range t2.NumField() {
				check(t2.Field(i).Type, path+"."+t2.Field(i).Name)
			}
		case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func:
			t.Errorf("%s is a %s: copy it deeply in readCache.instance", path, t2.Kind())
		}
	}
	check(typ, "Instance")
}
