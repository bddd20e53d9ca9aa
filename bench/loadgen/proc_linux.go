package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

const clockTicks = 100 // USER_HZ on Linux

// procCPUSeconds is user+system CPU time of a process and its waited-for children.
func procCPUSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// fields[11] is utime, fields[12] stime (stat fields 14 and 15).
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / clockTicks
}

// procMemInfo is a process's memory from /proc/PID/status, in KiB.
type procMemInfo struct {
	rssKiB, peakKiB, anonKiB, fileKiB int64
}

func procMem(pid int) procMemInfo {
	var m procMemInfo
	if pid <= 0 {
		return m
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for key, dst := range map[string]*int64{"VmRSS:": &m.rssKiB, "VmHWM:": &m.peakKiB, "RssAnon:": &m.anonKiB, "RssFile:": &m.fileKiB} {
			if rest, ok := strings.CutPrefix(line, key); ok {
				*dst, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			}
		}
	}
	return m
}
