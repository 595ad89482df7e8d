// Package crossface holds no code: its tests drive every face of one server, on both
// stores, with the same callers and hold each face to the same rules — no caller climbs
// above its own rights, a refused caller learns nothing from what it sent, common
// passwords are refused wherever a password is set.
package crossface
