package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/tencent"
)

// recommendedThresholds are the thresholds each vendor recommends for
// "same person": Baidu 80, Linkface 0.7, Tencent above 75.
func recommendedThresholds() []eval.VendorThreshold {
	out := append([]eval.VendorThreshold(nil), baidu.Thresholds()...)
	for _, v := range linkface.Thresholds() {
		if v.Threshold == 0.7 {
			out = append(out, v)
		}
	}
	return append(out, tencent.Thresholds()...)
}

// runEvalTree is `facekit eval tree DIR`: every pair of a labelled photo
// tree, per descriptor model (or through an endpoint).
func runEvalTree(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval tree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The directory may come before the flags, as the issue spells it.
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	cfg, err := engineConfig(fs, args)
	if err != nil {
		return err
	}
	var rf remoteFlags
	rf.register(fs)
	var (
		modelsFlag = fs.String("descriptors", descriptor.Default, "comma-separated descriptor models, or \"all\" ("+strings.Join(descriptor.Names(), ", ")+")")
		humanDir   = fs.String("human-models", "", "directory of the TF.js descriptor graphs (default MODELS/human-models)")
		session    = fs.String("session", "", "regular expression whose first group, matched against a file name, names its capture session: two photos of one person are then genuine only across sessions (NUAA crops: '^[0-9]+_[0-9]+_[0-9]+_([0-9]+)_')")
		cacheDir   = fs.String("cache", "", "descriptor cache directory (default: the user cache dir; \"none\" disables)")
		jsonOut    = fs.Bool("json", false, "print the full report as JSON instead of a table")
		svgPath    = fs.String("svg", "", "write the ROC and histogram picture (SVG) to this file")
		docPath    = fs.String("write-doc", "", "write the Markdown table to this file")
		appendDoc  = fs.String("append-doc", "", "append the table as a section titled TITLE to the --write-doc file instead of replacing it")
		workers    = fs.Int("workers", 0, "parallel workers (0 = one per engine instance)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit eval tree [flags] DIR\n\nIdentity is the top-level folder under DIR, or for photos directly in DIR the file-name stem without trailing digits (jimin3.jpg → jimin).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	} else if fs.NArg() > 0 || dir == "" {
		fs.Usage()
		return errUsage
	}
	opts := eval.TreeOptions{}
	if *session != "" {
		re, err := regexp.Compile(*session)
		if err != nil {
			return fmt.Errorf("--session: %w", err)
		}
		if re.NumSubexp() < 1 {
			return fmt.Errorf("--session %q: needs a group naming the session", *session)
		}
		opts.Session = re
	}
	images, err := eval.ScanTree(dir, opts)
	if err != nil {
		return err
	}
	cmdLine := "facekit eval tree " + shellJoin(append([]string{dir}, args...))
	if rf.endpoint != "" {
		pairs, st := eval.TreePairs(images, nil, opts.Session != nil)
		return runRemote(&rf, pairs, dir, fmt.Sprintf("tree %s (%d photos, %d genuine, %d impostor pairs)", filepath.Base(filepath.Clean(dir)), st.Images, st.Genuine, st.Impostor), *jsonOut, stdout, stderr)
	}

	names, err := descriptorNames(*modelsFlag)
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
	cache, err := cachePath(*cacheDir, dir)
	if err != nil {
		return err
	}
	paths := make([]string, len(images))
	for i, im := range images {
		paths[i] = im.Path
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	emb := &eval.Embedder{Engine: eng, Describers: ds, ImagesDir: dir, CacheDir: cache, Workers: *workers, Progress: stderr, TimeFaces: 1, Single: true}
	res, err := emb.Run(ctx, paths)
	if err != nil {
		return err
	}
	rep, st, err := treeReport(images, res, infos, opts.Session != nil)
	if err != nil {
		return err
	}
	if *svgPath != "" {
		if err := writeFile(*svgPath, func(w io.Writer) error { return eval.WriteSVG(w, rep) }); err != nil {
			return err
		}
	}
	if *docPath != "" {
		info := eval.DocInfo{Command: cmdLine, Dataset: fmt.Sprintf("`%s`", dir)}
		if *session != "" {
			info.Dataset += fmt.Sprintf(", capture session = first group of `%s` on the file name", *session)
		}
		write := writeFile
		if *appendDoc != "" {
			info.Section, write = *appendDoc, appendFile
		}
		if err := write(*docPath, func(w io.Writer) error { return eval.WriteTreeMarkdown(w, rep, info) }); err != nil {
			return err
		}
	}
	if *jsonOut {
		return encodeJSON(stdout, rep)
	}
	return printTree(stdout, rep, st)
}

// treeReport pairs the photos that have exactly one face and measures
// every model with the recommended vendor thresholds.
func treeReport(images []eval.TreeImage, res *eval.Embeddings, infos []descriptor.Info, sessions bool) (*eval.Report, eval.TreeStats, error) {
	keep := func(p string) bool { _, ok := res.Faces[p]; return ok }
	pairs, st := eval.TreePairs(images, keep, sessions)
	rep, err := eval.NewReport(pairs, res, infos, nil)
	if err != nil {
		return nil, st, err
	}
	rep.Tree = &st
	rep.AddVendorRates(recommendedThresholds())
	return rep, st, nil
}

func printTree(w io.Writer, rep *eval.Report, st eval.TreeStats) error {
	fmt.Fprintf(w, "%d photos of %d people: %d genuine, %d impostor pairs", st.Images, st.Identities, st.Genuine, st.Impostor)
	if st.SameSession > 0 {
		fmt.Fprintf(w, " (%d same-session pairs left out)", st.SameSession)
	}
	fmt.Fprintf(w, "; skipped: %d without a face, %d with several\n", rep.Found[eval.SkipNoFace], rep.Found[eval.SkipSeveral])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "model\tAUC\tEER\tTAR@1e-2")
	for _, v := range recommendedThresholds() {
		fmt.Fprintf(tw, "\t%s FAR\tTAR", v)
	}
	fmt.Fprintln(tw)
	for _, m := range rep.Models {
		t, _ := m.TARAt(1e-2)
		fmt.Fprintf(tw, "%s\t%.4f\t%.2f%%\t%.2f%%", m.Model, m.AUC, 100*m.EER, 100*t.TAR)
		for _, v := range m.Vendor {
			fmt.Fprintf(tw, "\t%.2f%% (%d/%d)\t%.2f%% (%d/%d)", 100*v.FAR, v.ImpostorAccepted, v.Impostor, 100*v.TAR, v.GenuineAccepted, v.Genuine)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
