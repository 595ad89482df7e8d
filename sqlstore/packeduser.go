package sqlstore

import (
	"encoding/binary"
	"time"

	"iamd"
)

// A packed user is a user as the read memory keeps it: one string holding every field,
// strings length-prefixed. A User with its ~25 strings, time pointers and slices is
// about 1.1 KB of heap in some 30 objects; packed, a few hundred bytes in one. An
// unpacked user's strings are slices of the packed one, so unpacking copies no text.
//
// The order below is the format; TestPackedUserKeepsEveryField fills every field of
// iamd.User and checks that it comes back, so a field added to User and not here fails.

// The bools, in this order, are one bit each.
func userFlags(u *iamd.User) [11]*bool {
	return [...]*bool{&u.EmailVerified, &u.PhoneVerified, &u.ConsoleDenied, &u.APIDenied, &u.Builtin, &u.SSO,
		&u.PlatformAdmin, &u.TemporaryPassword, &u.Expired, &u.CredentialsExpired, &u.MFAEnabled}
}

func userStrings(u *iamd.User) [27]*string {
	return [...]*string{&u.ID, &u.InstanceID, &u.LoginName, &u.Realm, &u.DisplayName, &u.GivenName, &u.FamilyName,
		&u.Email, &u.PhoneCountryCode, &u.PhoneNumber, &u.PhoneExtension, &u.EmployeeNumber, &u.Department,
		&u.BusinessUnit, &u.Manager, &u.Organization, &u.Description, &u.TimeZone, &u.Locale, &u.ExternalID,
		&u.Extra, (*string)(&u.Status), &u.PasswordHash, &u.CreatedBy, &u.CreatedByName, &u.UpdatedBy, &u.UpdatedByName}
}

func userMoments(u *iamd.User) [6]**time.Time {
	return [...]**time.Time{&u.PasswordChangedAt, &u.LockedUntil, &u.ElevatedUntil, &u.FirstLoginAt, &u.LastLoginAt,
		&u.LastFailedLoginAt}
}

// packUser packs u, whose times are microseconds in UTC (as the store reads them).
func packUser(u *iamd.User) string {
	b := make([]byte, 0, 512)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var flags uint64
	for i, f := range userFlags(u) {
		if *f {
			flags |= 1 << i
		}
	}
	b = binary.AppendUvarint(b, flags)
	for _, s := range userStrings(u) {
		str(*s)
	}
	for _, t := range userMoments(u) {
		if *t == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, micros(**t))
	}
	b = binary.AppendVarint(b, micros(u.CreatedAt))
	b = binary.AppendVarint(b, micros(u.UpdatedAt))
	b = binary.AppendVarint(b, int64(u.PasswordFailedCount))
	b = binary.AppendVarint(b, int64(u.PasswordHistoryCount))
	b = binary.AppendVarint(b, u.Version)
	// Slices: their length plus one, 0 for nil (which the faces answer unlike an empty one).
	for _, list := range [][]string{u.Roles, u.Privileges} {
		if list == nil {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(list))+1)
		for _, s := range list {
			str(s)
		}
	}
	for _, list := range [][]iamd.GroupRef{u.Groups, u.InheritedGroups} {
		if list == nil {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(list))+1)
		for _, g := range list {
			str(g.ID)
			str(g.Name)
		}
	}
	return string(b)
}

// unpacker reads a packed user; the store wrote it, so it is never short.
type unpacker struct {
	s string
	i int
}

func (p *unpacker) uvarint() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := p.s[p.i]
		p.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (p *unpacker) varint() int64 {
	u := p.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (p *unpacker) str() string {
	n := int(p.uvarint())
	s := p.s[p.i : p.i+n]
	p.i += n
	return s
}

// unpackUser returns a new user from what packUser packed.
func unpackUser(packed string) *iamd.User {
	u := new(iamd.User)
	unpackUserInto(u, packed)
	return u
}

// unpackUserInto sets the fields of u, which must be the zero User, from packed. What
// packed holds empty is left as it is: a page of users is mostly empty fields, and each
// store into the heap costs.
func unpackUserInto(u *iamd.User, packed string) {
	p := &unpacker{s: packed}
	flags := p.uvarint()
	for i, f := range userFlags(u) {
		*f = flags&(1<<i) != 0
	}
	for _, s := range userStrings(u) {
		if v := p.str(); v != "" {
			*s = v
		}
	}
	for _, t := range userMoments(u) {
		present := p.s[p.i] == 1
		p.i++
		if present {
			v := fromMicros(p.varint())
			*t = &v
		}
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(p.varint()), fromMicros(p.varint())
	u.PasswordFailedCount, u.PasswordHistoryCount, u.Version = int(p.varint()), int(p.varint()), p.varint()
	for _, list := range []*[]string{&u.Roles, &u.Privileges} {
		if n := p.uvarint(); n > 0 {
			*list = make([]string, n-1)
			for i := range *list {
				(*list)[i] = p.str()
			}
		}
	}
	for _, list := range []*[]iamd.GroupRef{&u.Groups, &u.InheritedGroups} {
		if n := p.uvarint(); n > 0 {
			*list = make([]iamd.GroupRef, n-1)
			for i := range *list {
				(*list)[i] = iamd.GroupRef{ID: p.str(), Name: p.str()}
			}
		}
	}
}
