package main

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/osmarc/osmarc/index"
)

// benchExport exports the archives the ingest benchmark built (n items in
// bigData, small items in smallData) with osmarc export as its own
// process, in each format of exportFormats, beside the limit measured in
// the same run: a plain tar of the same blobs (every blob in the store,
// one fsync at the end). Throughput is the store's blob bytes over the
// wall time, so every figure is of the same bytes; memory is the export
// process's peak, at n and at small items, to show it is flat.
//
// The WARC writer is measured the same way as BagIt (it is one more
// entry in exportFormats); a new format is one more entry.
func benchExport(bin, work, bigData, smallData string, n, small int, env []string) (map[string]any, []row, error) {
	res := map[string]any{}
	for _, d := range []string{bigData, smallData} {
		if _, err := os.Stat(filepath.Join(d, index.DirName)); err != nil {
			logf("osmarc reindex %s (export selects through the search index)", d)
			if _, err := timeProcess(env, bin, "reindex", "--quiet", "--data", d); err != nil {
				return nil, nil, err
			}
		}
	}
	blobs := filepath.Join(bigData, "store", "blobs")
	logf("limit: tar of the %dk-item archive's blobs", n/1000)
	tarBytes, tarWall, err := tarBlobs(blobs, filepath.Join(work, "blobs.tar"))
	if err != nil {
		return nil, nil, err
	}
	os.Remove(filepath.Join(work, "blobs.tar"))
	tarMBs := float64(tarBytes) / 1e6 / tarWall.Seconds()
	res["export_tar_mb_per_s"] = round(tarMBs)
	res["export_tar_items_per_s"] = round(float64(n) / tarWall.Seconds())
	res["export_blob_mb"] = round(float64(tarBytes) / 1e6)
	rows := []row{{fmt.Sprintf("tar of the blobs (%dk items, %.0f MB)", n/1000, float64(tarBytes)/1e6),
		fmt.Sprintf("%.1f MB/s, %.0f items/s", tarMBs, float64(n)/tarWall.Seconds()), "", ""}}
	for _, format := range []string{"bagit", "warc"} {
		out := filepath.Join(work, "export-"+format)
		logf("osmarc export --format %s: %dk items", format, n/1000)
		big, err := timeProcess(env, bin, "export", "--quiet", "--data", bigData, "--format", format, "--out", out)
		if err != nil {
			return nil, nil, fmt.Errorf("export %s: %w", format, err)
		}
		outBytes := duSize(out)
		os.RemoveAll(out)
		logf("osmarc export --format %s: %dk items (memory at a smaller size)", format, small/1000)
		sm, err := timeProcess(env, bin, "export", "--quiet", "--data", smallData, "--format", format, "--out", out)
		if err != nil {
			return nil, nil, fmt.Errorf("export %s (small): %w", format, err)
		}
		os.RemoveAll(out)
		mbs := float64(tarBytes) / 1e6 / big.wall.Seconds()
		k := "export_" + format
		res[k+"_mb_per_s"] = round(mbs)
		res[k+"_items_per_s"] = round(float64(n) / big.wall.Seconds())
		res[k+"_seconds"] = round(big.wall.Seconds())
		res[k+"_cpu_seconds"] = round(big.cpu.Seconds())
		res[k+"_out_mb"] = round(float64(outBytes) / 1e6)
		res[k+"_peak_rss_mb"] = round(big.rssMB)
		res[k+"_peak_anon_mb"] = round(big.anonMB)
		res[k+"_peak_rss_mb_small"] = round(sm.rssMB)
		res[k+"_peak_anon_mb_small"] = round(sm.anonMB)
		target := ""
		verdict := ""
		if format == "bagit" {
			target = fmt.Sprintf("%.0f%% of tar; target ≥ 50%%", 100*mbs/tarMBs)
			verdict = verdictOf(mbs >= 0.5*tarMBs)
		} else {
			target = fmt.Sprintf("%.0f%% of tar", 100*mbs/tarMBs)
		}
		rows = append(rows,
			row{fmt.Sprintf("export %dk → %s (%.0f MB written)", n/1000, format, float64(outBytes)/1e6),
				fmt.Sprintf("%.1f MB/s, %.0f items/s (%.1f s, CPU %.1f s)", mbs, float64(n)/big.wall.Seconds(), big.wall.Seconds(), big.cpu.Seconds()), target, verdict},
			row{fmt.Sprintf("export %s peak RSS, %dk items", format, n/1000), fmt.Sprintf("%.0f MB", big.rssMB),
				fmt.Sprintf("%.0f MB at %dk; target ≤ 300 MB", sm.rssMB, small/1000), verdictOf(big.rssMB <= 300)},
			row{fmt.Sprintf("export %s peak heap (RssAnon), %dk items", format, n/1000), fmt.Sprintf("%.0f MB", big.anonMB),
				fmt.Sprintf("%.0f MB at %dk; flat (within 25%%)", sm.anonMB, small/1000), verdictOf(big.anonMB <= 1.25*sm.anonMB+10)},
		)
	}
	return res, rows, nil
}

// tarBlobs writes every file under dir into a tar file, syncs it once,
// and returns the bytes of file content and the wall time.
func tarBlobs(dir, out string) (int64, time.Duration, error) {
	start := time.Now()
	f, err := os.Create(out)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	var n int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/" + filepath.ToSlash(rel), Mode: 0o640, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		c, err := io.Copy(tw, src)
		src.Close()
		n += c
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	return n, time.Since(start), err
}

// duSize is the size of the files under p (a file or a directory).
func duSize(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
