package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/eval"
)

// evalUsage lists the eval subcommands.
const evalUsage = `usage:
  facekit eval pairs --pairs FILE --images DIR [flags]      LFW pairs.txt or "a b same|diff" lines
  facekit eval tree [flags] DIR                             all pairs of a labelled photo tree
  facekit eval pairs|tree ... --endpoint URL --dialect baidu|linkface|tencent [--api-key K --secret-key S --app-id A]
  facekit eval --compare [--write-doc FILE --svg FILE] REPORT.json...`

// runEval is `facekit eval`: verification accuracy of one or more
// descriptor models (or of an endpoint) on a pairs list (LFW pairs.txt or
// "a b same|diff") or a labelled photo tree, and endpoint comparisons.
func runEval(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "tree":
			return runEvalTree(args[1:], stdout, stderr)
		case "compare", "--compare", "-compare":
			return runEvalCompare(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "pairs" {
		fmt.Fprintln(stderr, evalUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("eval pairs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := engineConfig(fs, args[1:])
	if err != nil {
		return err
	}
	var (
		pairsPath  = fs.String("pairs", "", "pairs file: LFW pairs.txt (header \"10 300\") or lines \"imageA imageB same|diff\"")
		imagesDir  = fs.String("images", "", "directory the pairs' image paths are relative to (LFW: DIR/NAME/NAME_0001.jpg)")
		modelsFlag = fs.String("descriptors", descriptor.Default, "comma-separated descriptor models, or \"all\" ("+strings.Join(descriptor.Names(), ", ")+")")
		humanDir   = fs.String("human-models", "", "directory of the TF.js descriptor graphs (default MODELS/human-models)")
		fuseFlag   = fs.String("fuse", "auto", "score-level fusion: auto (the two most accurate models), none, or MODEL_A,MODEL_B")
		cacheDir   = fs.String("cache", "", "descriptor cache directory (default: the user cache dir; \"none\" disables)")
		jsonOut    = fs.Bool("json", false, "print the full report as JSON instead of a table")
		svgPath    = fs.String("svg", "", "write the ROC and histogram picture (SVG) to this file")
		docPath    = fs.String("write-doc", "", "write the Markdown accuracy table (e.g. docs/accuracy.md)")
		appendDoc  = fs.String("append-doc", "", "append the table as a section titled TITLE to the --write-doc file instead of replacing it")
		limit      = fs.Int("limit", 0, "use only the first N pairs (re-split into 10 stratified folds if they span fewer than 2 folds)")
		foldsFlag  = fs.Int("folds", 0, "use only the first K folds (K=1 re-splits that fold into 10)")
		calibDir   = fs.String("calibrate", "", "write each model's distance→FAR curve, from all image pairs (person = image directory), to DIR/MODEL.json")
		timeFaces  = fs.Int("time-faces", 20, "faces described serially per model to measure ms per face")
		workers    = fs.Int("workers", 0, "parallel workers (0 = one per engine instance)")
	)
	var rf remoteFlags
	rf.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *pairsPath == "" || *imagesDir == "" {
		fmt.Fprintln(stderr, "facekit eval pairs: --pairs and --images are required")
		fs.Usage()
		return errUsage
	}
	pairs, err := readPairs(*pairsPath, *limit, *foldsFlag)
	if err != nil {
		return err
	}
	if rf.endpoint != "" {
		data := fmt.Sprintf("%d pairs of %s", len(pairs), filepath.Base(*pairsPath))
		if *foldsFlag > 0 {
			data += fmt.Sprintf(" (first %d fold(s))", *foldsFlag)
		}
		return runRemote(&rf, pairs, *imagesDir, data, *jsonOut, stdout, stderr)
	}
	names, err := descriptorNames(*modelsFlag)
	if err != nil {
		return err
	}
	fuse, err := fuseNames(*fuseFlag, names)
	if err != nil {
		return err
	}

	eng, err := openEngine(*cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	hd := *humanDir
	if hd == "" {
		hd = filepath.Join(cfg.Engine.Models, "human-models")
	}
	env := descriptor.Env{Engine: eng, HumanModels: hd}
	var ds []descriptor.Describer
	var infos []descriptor.Info
	for _, n := range names {
		d, err := descriptor.Open(n, env)
		if err != nil {
			return err
		}
		info, _ := descriptor.Lookup(n)
		ds, infos = append(ds, d), append(infos, info)
	}
	cache, err := cachePath(*cacheDir, *imagesDir)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	det := engine.Detector(cfg.Engine.Detector)
	if cache != "" && det != engine.DetectorAuto && det != "" {
		cache = filepath.Join(cache, "detector-"+string(det)) // faces and descriptors depend on the detector
	}
	emb := &eval.Embedder{Engine: eng, Describers: ds, ImagesDir: *imagesDir, CacheDir: cache, Workers: *workers, Progress: stderr, TimeFaces: *timeFaces, Detector: det}
	res, err := emb.Run(ctx, eval.Images(pairs))
	if err != nil {
		return err
	}
	rep, err := eval.NewReport(pairs, res, infos, fuse)
	if err != nil {
		return err
	}

	if *calibDir != "" {
		for _, info := range infos {
			curve, err := eval.Calibrate(res, info, fmt.Sprintf("all pairs of the %d images of %s (facekit eval pairs --calibrate)", len(res.Vectors[info.Name]), *imagesDir))
			if err != nil {
				return err
			}
			err = writeFile(filepath.Join(*calibDir, info.Name+".json"), func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(curve)
			})
			if err != nil {
				return err
			}
		}
	}
	if *svgPath != "" {
		if err := writeFile(*svgPath, func(w io.Writer) error { return eval.WriteSVG(w, rep) }); err != nil {
			return err
		}
	}
	if *docPath != "" {
		info := eval.DocInfo{
			Command: "facekit eval " + shellJoin(args),
			Dataset: fmt.Sprintf("`%s` with images from `%s`", *pairsPath, *imagesDir),
			Machine: fmt.Sprintf("%s/%s, %d CPUs, GOMAXPROCS %d (a shared machine: other work may inflate it)", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0)),
		}
		if *svgPath != "" {
			if rel, err := filepath.Rel(filepath.Dir(*docPath), *svgPath); err == nil {
				info.Picture = filepath.ToSlash(rel)
			}
		}
		write := writeFile
		if *appendDoc != "" {
			info.Section, write = *appendDoc, appendFile
		}
		if err := write(*docPath, func(w io.Writer) error { return eval.WriteMarkdown(w, rep, info) }); err != nil {
			return err
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printReport(stdout, rep)
}

func readPairs(path string, limit, folds int) ([]eval.Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pairs, err := eval.ParsePairs(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if folds > 0 {
		var kept []eval.Pair
		for _, p := range pairs {
			if p.Fold < folds {
				kept = append(kept, p)
			}
		}
		pairs = kept
	}
	if limit > 0 && limit < len(pairs) {
		pairs = pairs[:limit]
	}
	distinct := map[int]bool{}
	for _, p := range pairs {
		distinct[p.Fold] = true
	}
	if len(distinct) < 2 {
		pairs = eval.Refold(pairs, eval.DefaultFolds)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: no pairs selected", path)
	}
	return pairs, nil
}

func descriptorNames(s string) ([]string, error) {
	if s == "all" {
		return descriptor.Names(), nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, err := descriptor.Lookup(n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("--descriptors names no model")
	}
	return out, nil
}

func fuseNames(s string, models []string) ([]string, error) {
	switch s {
	case "none", "":
		return nil, nil
	case "auto":
		if len(models) < 2 {
			return nil, nil
		}
		return []string{"auto"}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("--fuse wants auto, none or two models, got %q", s)
	}
	for _, p := range parts {
		found := false
		for _, m := range models {
			found = found || m == p
		}
		if !found {
			return nil, fmt.Errorf("--fuse: %q is not among --descriptors %v", p, models)
		}
	}
	return parts, nil
}

// cachePath resolves the cache directory: one per images directory under
// the user cache dir unless given.
func cachePath(flagValue, imagesDir string) (string, error) {
	switch flagValue {
	case "none":
		return "", nil
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return "", nil // no home: run without a cache
		}
		abs, err := filepath.Abs(imagesDir)
		if err != nil {
			return "", err
		}
		h := sha256.Sum256([]byte(abs))
		return filepath.Join(base, "facekit", "eval", filepath.Base(abs)+"-"+hex.EncodeToString(h[:4])), nil
	}
	return flagValue, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shellJoin quotes arguments that a shell would split, so the command
// recorded in the document can be pasted back.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\()*?;&|<>") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func appendFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("--append-doc: %w (write the document first)", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printReport(w io.Writer, rep *eval.Report) error {
	fmt.Fprintf(w, "%d pairs (%d genuine, %d impostor), %d folds, %d images; faces:", rep.Pairs, rep.Genuine, rep.Impostor, rep.Folds, rep.Images)
	// HOG and CNN always (as before), then any other detector run alone
	// (--detector ssd), then the images no detector found.
	keys := []string{eval.FoundHOG, eval.FoundCNN}
	for k := range rep.Found {
		if k != eval.FoundHOG && k != eval.FoundCNN && k != eval.FoundCentre {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys[2:])
	for _, k := range append(keys, eval.FoundCentre) {
		fmt.Fprintf(w, " %s %d", k, rep.Found[k])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\taccuracy\t± std\tTAR@1e-2\tTAR@1e-3\tTAR@1e-4\tEER\tgenuine median\timpostor p1\tms/face")
	models := rep.Models
	if rep.Fusion != nil {
		models = append(append([]eval.ModelReport(nil), models...), *rep.Fusion)
	}
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%.2f%%\t%.2f%%", m.Model, 100*m.CV.Mean, 100*m.CV.Std)
		for _, far := range eval.ReportFARs {
			t, _ := m.TARAt(far)
			mark := ""
			if !t.Resolved {
				mark = "*"
			}
			fmt.Fprintf(tw, "\t%.2f%%%s", 100*t.TAR, mark)
		}
		fmt.Fprintf(tw, "\t%.2f%%\t%.3f\t%.3f\t%.1f\n", 100*m.EER, m.Genuine.Median, m.Impostor.P01, m.MsPerFace)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Fusion != nil {
		fmt.Fprintf(w, "fusion weight of %s: %.2f (mean over folds)\n", rep.Fusion.Fused[0], rep.Fusion.Weight)
	}
	return nil
}
