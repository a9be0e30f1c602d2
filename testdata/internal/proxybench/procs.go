package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processes are the processes proxybench started, stopped at the end.
// Their output goes to log files in logDir (a proxy logs every request
// that wrk cuts short at the end of a run).
type processes struct {
	logDir string
	cmds   []*exec.Cmd
}

// start runs bin pinned to cpu (taskset -c) and returns its pid (taskset
// execs bin, so the pid is bin's).
func (p *processes) start(cpu, bin string, args ...string) (int, error) {
	return p.startIn("", cpu, bin, args...)
}

func (p *processes) startIn(dir, cpu, bin string, args ...string) (int, error) {
	cmd := exec.Command("taskset", append([]string{"-c", cpu, bin}, args...)...)
	log, err := os.Create(filepath.Join(p.logDir, fmt.Sprintf("%d-%s.log", len(p.cmds), filepath.Base(bin))))
	if err != nil {
		return 0, err
	}
	defer log.Close() // the child has its own copy
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", bin, err)
	}
	p.cmds = append(p.cmds, cmd)
	return cmd.Process.Pid, nil
}

func (p *processes) stopAll() {
	for _, cmd := range p.cmds {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range p.cmds {
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
}

// cpuTicks is a process's user+system time in clock ticks (fields 14 and
// 15 of /proc/PID/stat, after the command name in parentheses).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat: utime %q stime %q", f[11], f[12])
	}
	return u + s, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100
