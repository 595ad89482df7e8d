package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Process reads a server process's CPU time and peak resident memory from /proc.
type Process struct{ PID int }

// ProcessSample is one reading.
type ProcessSample struct {
	CPUSeconds   float64 // user + system
	PeakRSSBytes int64   // VmHWM: the peak since start or the last ResetPeak
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc on every architecture Go
// supports.
const clockTicks = 100

// Sample reads the process's figures now.
func (p *Process) Sample() (ProcessSample, error) {
	var s ProcessSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; the fields after it follow the last ')'.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 13 {
		return s, fmt.Errorf("loadtest: unexpected /proc/%d/stat", p.PID)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14 of the whole line
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("loadtest: unexpected /proc/%d/stat", p.PID)
	}
	s.CPUSeconds = float64(utime+stime) / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return s, fmt.Errorf("loadtest: unexpected VmHWM %q", v)
			}
			s.PeakRSSBytes = kb * 1024
		}
	}
	return s, nil
}

// ResetPeak starts a new peak-RSS window (Linux: writing 5 to clear_refs).
func (p *Process) ResetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.PID), []byte("5"), 0)
}
