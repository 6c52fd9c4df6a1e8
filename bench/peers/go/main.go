// Decodes a binlog file with go-mysql's replication.BinlogParser
// (ParseReader over a bufio.Reader), default settings: every event parsed,
// every row image turned into []interface{} values (RowsEvent.Rows; an
// update's before and after images are two entries), as the
// library hands them to its users. CRC32 verification is off, the library's
// default.
//
//	go run . [-passes N] [-warmup W] FILE
//
// The file is read into memory once; each pass decodes it from that copy
// through a 1 MiB bufio.Reader, so the figure is decoding alone. The first W
// passes are not counted; of the others the median and the best wall-clock
// time are printed, and the median of the process's CPU time (every thread's,
// the garbage collector's included), one line:
//
//	peer=go events=E images=I bytes=B passes=P median_s=S best_s=S median_MBps=M best_MBps=M
//	cpu_median_s=S cpu_median_MBps=M
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

func decode(file []byte) (events, images int64, err error) {
	if len(file) < 4 || !bytes.Equal(file[:4], replication.BinLogFileHeader) {
		return 0, 0, fmt.Errorf("not a binlog file")
	}
	p := replication.NewBinlogParser()
	r := bufio.NewReaderSize(bytes.NewReader(file[4:]), 1<<20)
	err = p.ParseReader(r, func(e *replication.BinlogEvent) error {
		events++
		if re, ok := e.Event.(*replication.RowsEvent); ok {
			images += int64(len(re.Rows))
		}
		return nil
	})
	return events, images, err
}

// The process's user and system CPU time, in seconds.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// Sorts v and returns its median.
func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[n/2]
}

func main() {
	passes := flag.Int("passes", 6, "passes over the file")
	warmup := flag.Int("warmup", 1, "first passes not counted")
	flag.Parse()
	if flag.NArg() != 1 || *passes <= *warmup {
		fmt.Fprintln(os.Stderr, "usage: binlogpeer [-passes N] [-warmup W] FILE   (N > W)")
		os.Exit(2)
	}
	file, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var events, images int64
	var seconds, cpu []float64
	for i := 0; i < *passes; i++ {
		c0 := cpuSeconds()
		t0 := time.Now()
		events, images, err = decode(file)
		s := time.Since(t0).Seconds()
		c := cpuSeconds() - c0
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		note := ""
		if i < *warmup {
			note = " (warm-up)"
		} else {
			seconds = append(seconds, s)
			cpu = append(cpu, c)
		}
		fmt.Fprintf(os.Stderr, "pass %d: %.3f s, CPU %.3f s%s\n", i+1, s, c, note)
	}
	med, cpuMed := median(seconds), median(cpu)
	mb := float64(len(file)) / 1e6
	fmt.Printf("peer=go events=%d images=%d bytes=%d passes=%d median_s=%.4f best_s=%.4f median_MBps=%.1f best_MBps=%.1f cpu_median_s=%.4f cpu_median_MBps=%.1f\n",
		events, images, len(file), len(seconds), med, seconds[0], mb/med, mb/seconds[0], cpuMed, mb/cpuMed)
}
