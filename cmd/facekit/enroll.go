package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/control"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// Outcomes of enrolling one photo. They are written to the journal and
// counted in the summary.
const (
	outcomeAdded       = "added"
	outcomeAlready     = "already enrolled"
	outcomeNoFace      = "no face"
	outcomeSeveral     = "several faces"
	outcomeUnreadable  = "unreadable"
	outcomeSmallFace   = "poor quality: face too small"
	outcomeTurned      = "poor quality: head turned too far"
	outcomePoorQuality = "poor quality: " // + the first failed criterion
	outcomeLibraryFull = "user has the maximum number of faces"
	outcomeRejected    = "rejected by the library"
)

// enrollOptions are the parsed flags of `facekit enroll`.
type enrollOptions struct {
	dbPath     string
	app        string
	group      string
	photos     string
	thumbnails bool
	// sourceCrops keeps each face's source crop (facekit reembed).
	sourceCrops bool
	// describer describes the faces: the library's model; nil means the
	// dlib ResNet, opened over the engine.
	describer descriptor.Describer
	minFace   int     // pixels; smaller faces are "poor quality"
	maxPose   float64 // degrees of |yaw| or |pitch|
	quality   quality.Level
	workers   int
	// progress is drawn on stderr when it is a terminal.
	progress bool
	// afterPhoto, when set, runs after each photo's outcome is journaled
	// (tests use it to interrupt a run at a known point).
	afterPhoto func(done int)
}

// photo is one image file to enroll and the user it belongs to.
type photo struct {
	path string // absolute
	rel  string // relative to the photo directory; the journal key
	user string
}

// journalEntry is one line of the enroll journal: a photo that needs no
// more work, with what happened to it.
type journalEntry struct {
	File    string `json:"file"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"`
	User    string `json:"user"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
	Token   string `json:"face_token,omitempty"`
}

// enrollSummary counts outcomes; resumed counts photos skipped because an
// earlier run journaled them.
type enrollSummary struct {
	total    int
	resumed  int
	outcomes map[string]int
	// examples keeps the first few files per skip reason for the report.
	examples map[string][]string
}

// runEnroll is `facekit enroll`: add every photo of a directory to a group
// of an application's library.
func runEnroll(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("enroll", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit enroll --app APP_ID --group GROUP [flags] PHOTO_DIR")
		fmt.Fprintln(stderr, "\nPHOTO_DIR holds one sub-directory per user (named by the user id), or, when it has")
		fmt.Fprintln(stderr, "no sub-directories, files named USER_anything.jpg (the user id is the part before the")
		fmt.Fprintln(stderr, "first underscore; a name without one is the user id itself). A re-run resumes: photos")
		fmt.Fprintln(stderr, "already handled are skipped (journal DATA/enroll-APP-GROUP.journal).")
		fs.PrintDefaults()
	}
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	registerEngineConfigFlags(fs, &cfg)
	opts := enrollOptions{progress: isTerminal(stderr)}
	fs.StringVar(&opts.app, "app", "", "application id (from `facekit app create`; required)")
	fs.StringVar(&opts.group, "group", "", "group id to enroll into (required; created when absent)")
	noThumbs := fs.Bool("no-thumbnails", !cfg.Library.Thumbnails, "do not store a small face crop per enrolled face (config [library] thumbnails)")
	noCrops := fs.Bool("no-source-crops", !cfg.Library.SourceCrops, "do not store the aligned face crop facekit reembed re-describes faces from (config [library] source_crops)")
	fs.StringVar(&cfg.Engine.Descriptor, "descriptor", cfg.Engine.Descriptor, descriptorFlagUsage)
	fs.IntVar(&opts.minFace, "min-face", 40, "skip faces whose box is narrower than this many pixels")
	fs.Float64Var(&opts.maxPose, "max-pose", 50, "skip faces turned more than this many degrees (yaw or pitch)")
	level := fs.String("quality", "LOW", "quality control level a face must pass: NONE, LOW, NORMAL or HIGH (blur, illumination, occlusion, size, pose)")
	fs.IntVar(&opts.workers, "workers", 0, "photos analysed at once (0 = the engine pool size)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if opts.app == "" || opts.group == "" {
		return errors.New("--app and --group are required")
	}
	if !store.ValidID(opts.group) {
		return fmt.Errorf("group %q: %w", opts.group, store.ErrInvalidID)
	}
	if opts.quality, err = control.ParseLevel(*level); err != nil {
		return err
	}
	opts.photos = fs.Arg(0)
	opts.thumbnails = !*noThumbs
	opts.sourceCrops = !*noCrops
	opts.dbPath = filepath.Join(cfg.Data, "facekit.db")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := openLibrary(ctx, cfg, libraryUse{})
	if err != nil {
		return err
	}
	defer db.Close()
	if note, err := followLibraryModel(ctx, db, &cfg); err != nil {
		return err
	} else if note != "" {
		fmt.Fprintln(stderr, "facekit enroll: "+note)
	}
	eng, err := openEngine(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	if opts.describer, err = openDescriptor(cfg, eng); err != nil {
		return err
	}
	sum, err := enroll(ctx, eng, db, opts, stderr)
	if sum != nil {
		sum.print(stdout)
	}
	if err == nil && ctx.Err() != nil {
		fmt.Fprintln(stdout, "interrupted: run the same command again to resume")
	}
	return err
}

// enroll runs one (possibly resumed) bulk enrollment. It stops early, with
// the journal flushed, when ctx ends; the summary is returned either way.
func enroll(ctx context.Context, eng *engine.Engine, db Library, opts enrollOptions, progress io.Writer) (*enrollSummary, error) {
	if _, err := db.AppByID(ctx, opts.app); err != nil {
		return nil, fmt.Errorf("application %q: %w", opts.app, err)
	}
	photos, err := listPhotos(opts.photos)
	if err != nil {
		return nil, err
	}
	if len(photos) == 0 {
		return nil, fmt.Errorf("no photos (jpg, jpeg, png, bmp, gif, tif, webp) in %s", opts.photos)
	}
	journalPath := filepath.Join(filepath.Dir(opts.dbPath), "enroll-"+opts.app+"-"+opts.group+".journal")
	done, err := readJournal(journalPath)
	if err != nil {
		return nil, err
	}
	jf, err := os.OpenFile(journalPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("enroll journal: %w", err)
	}
	defer jf.Close()
	jw := bufio.NewWriter(jf)

	sum := &enrollSummary{total: len(photos), outcomes: map[string]int{}, examples: map[string][]string{}}
	var todo []photo
	for _, p := range photos {
		if e, ok := done[p.rel]; ok && e.matches(p.path) {
			sum.resumed++
			continue
		}
		todo = append(todo, p)
	}
	bar := newProgressBar(progress, opts.progress, len(photos), sum.resumed)
	bar.draw(sum)

	workers := opts.workers
	if workers <= 0 {
		workers = eng.PoolSize()
	}
	svc, err := enrollService(eng, db, opts, workers)
	if err != nil {
		return nil, err
	}
	// A library write error stops the analysis of the remaining photos.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Analysis runs in parallel; library writes and the journal stay on
	// this goroutine so that the journal order is the commit order.
	type result struct {
		p     photo
		entry journalEntry
		face  *service.Face
	}
	jobs := make(chan photo)
	results := make(chan result)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				e, f := analysePhoto(ctx, svc, p, opts)
				select {
				case results <- result{p, e, f}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, p := range todo {
			select {
			case jobs <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var werr error
	n := 0
	for r := range results {
		if werr != nil || ctx.Err() != nil {
			continue // drain
		}
		e := r.entry
		if r.face != nil {
			// The service's enrollment, the one the HTTP API uses: token,
			// descriptor, thumbnail and source crop as configured.
			f, err := svc.Enroll(ctx, opts.app, store.User{GroupID: opts.group, UserID: r.p.user}, *r.face, store.ActionAppend)
			switch {
			case err == nil:
				e.Outcome, e.Token = outcomeAdded, f.Token
			case errors.Is(err, store.ErrFaceExists):
				// The token is derived from the photo's bytes, so this is
				// a photo whose enrollment committed before the journal
				// line was written (an interrupted run).
				e.Outcome = outcomeAlready
			case errors.Is(err, store.ErrTooManyFaces):
				e.Outcome = outcomeLibraryFull
			case errors.Is(err, store.ErrInvalidID), errors.Is(err, store.ErrModelMismatch):
				e.Outcome, e.Detail = outcomeRejected, err.Error()
			case ctx.Err() != nil:
				continue // not done: the next run retries it
			default:
				werr = fmt.Errorf("enrolling %s: %w", r.p.rel, err)
				cancel()
				continue
			}
		}
		if err := writeJournal(jw, e); err != nil {
			werr = err
			cancel()
			continue
		}
		sum.count(e)
		n++
		bar.done++
		bar.draw(sum)
		if opts.afterPhoto != nil {
			opts.afterPhoto(n)
		}
	}
	bar.finish()
	if err := jw.Flush(); err != nil && werr == nil {
		werr = fmt.Errorf("enroll journal: %w", err)
	}
	if err := jf.Sync(); err != nil && werr == nil {
		werr = fmt.Errorf("enroll journal: %w", err)
	}
	return sum, werr
}

// enrollService is the service the enrollment runs through: the library's
// descriptor model (opts.describer; the dlib ResNet when nil, as tests
// that enroll a library of the old default use), thumbnails and source
// crops as opts asks, one analysis slot per worker.
func enrollService(eng *engine.Engine, db Library, opts enrollOptions, workers int) (*service.Service, error) {
	desc := opts.describer
	if desc == nil {
		d, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
		if err != nil {
			return nil, fmt.Errorf("descriptor: %w", err)
		}
		desc = d
	}
	return service.New(service.Config{
		Concurrency: workers,
		Thumbnails:  opts.thumbnails,
		SourceCrops: opts.sourceCrops,
	}, service.Deps{Engine: eng, Descriptor: desc, Library: db, Searcher: db, Apps: db, FaceTokens: db})
}

// analysePhoto detects and describes the face of one photo through the
// service and applies the enrollment policy (one face, big and frontal
// enough, of the quality level). It returns the journal entry with the
// outcome when the photo is skipped, or the face to enroll.
func analysePhoto(ctx context.Context, svc *service.Service, p photo, opts enrollOptions) (journalEntry, *service.Face) {
	e := journalEntry{File: p.rel, User: p.user}
	if st, err := os.Stat(p.path); err == nil {
		e.Size, e.ModTime = st.Size(), st.ModTime().UnixNano()
	}
	skip := func(outcome, detail string) (journalEntry, *service.Face) {
		e.Outcome, e.Detail = outcome, detail
		return e, nil
	}
	if !store.ValidID(p.user) {
		return skip(outcomeRejected, fmt.Sprintf("user id %q is not [A-Za-z0-9_]{1,128}", p.user))
	}
	raw, err := os.ReadFile(p.path)
	if err != nil {
		return skip(outcomeUnreadable, err.Error())
	}
	// The face token is derived from the photo's bytes, as in the HTTP
	// API, so a photo enrolled twice is recognised as the same face.
	det, err := svc.DetectFaces(ctx, opts.app, service.ImageSource{Kind: service.ImageBytes, Bytes: raw}, service.DetectOptions{
		MaxFaces: 1,
		CountAll: true, // a group photo is refused, so count its faces
		// Nobody will name these faces by token; the library keeps them.
		NoTokenCache: true,
	})
	switch {
	case errors.Is(err, service.ErrNoFace):
		return skip(outcomeNoFace, "")
	case err != nil:
		return skip(outcomeUnreadable, err.Error())
	case det.Found > 1:
		// Enrolling the wrong person of a group photo is worse than
		// enrolling nobody: the operator picks a better photo.
		return skip(outcomeSeveral, fmt.Sprintf("%d faces", det.Found))
	}
	f := det.Faces[0]
	if w := f.Rect.Dx(); w < opts.minFace {
		return skip(outcomeSmallFace, fmt.Sprintf("%d px wide, minimum %d", w, opts.minFace))
	}
	if math.Abs(f.Pose.Yaw) > opts.maxPose || math.Abs(f.Pose.Pitch) > opts.maxPose {
		return skip(outcomeTurned, fmt.Sprintf("yaw %.0f°, pitch %.0f°, maximum %.0f°", f.Pose.Yaw, f.Pose.Pitch, opts.maxPose))
	}
	if outcome, detail := checkQuality(svc, det, f, opts.quality); outcome != "" {
		return skip(outcome, detail)
	}
	if f.Vector == nil {
		return skip(outcomeUnreadable, "the face could not be described")
	}
	return e, &f
}

// qualityCriteria are the quality package's failures, each reported as its
// own skip reason.
var qualityCriteria = []error{
	quality.ErrIncomplete, quality.ErrFaceTooSmall, quality.ErrPose, quality.ErrBlur, quality.ErrIllumination,
	quality.ErrOcclusionLeftEye, quality.ErrOcclusionRightEye, quality.ErrOcclusionNose, quality.ErrOcclusionMouth,
	quality.ErrOcclusionLeftCheek, quality.ErrOcclusionRightCheek, quality.ErrOcclusionChin,
}

// checkQuality applies level to face f of det through the service. It
// returns the outcome (the first failed criterion, which names the summary
// line) and the full list of failures, or "" when the face passes.
func checkQuality(svc *service.Service, det *service.Detection, f service.Face, level quality.Level) (string, string) {
	err := svc.CheckQuality(det, f, level)
	if err == nil {
		return "", ""
	}
	var ce *quality.CheckError
	if !errors.As(err, &ce) {
		return outcomePoorQuality + "not measurable", err.Error()
	}
	if len(ce.Failures) > 0 {
		for _, c := range qualityCriteria {
			if errors.Is(ce.Failures[0], c) {
				return outcomePoorQuality + strings.TrimPrefix(c.Error(), "quality: "), err.Error()
			}
		}
	}
	return outcomePoorQuality + "check failed", err.Error()
}

// photoExts are the file types enroll picks up (by extension, case-insensitive).
var photoExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".gif": true, ".tif": true, ".tiff": true, ".webp": true}

// listPhotos finds the photos of dir: one sub-directory per user when dir
// has sub-directories, else USER_*.ext files. Hidden files are ignored. The
// order is deterministic (sorted by relative path).
func listPhotos(dir string) ([]photo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("photo directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var photos []photo
	hasDirs := false
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			hasDirs = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		switch {
		case hasDirs && e.IsDir():
			sub, err := os.ReadDir(filepath.Join(abs, name))
			if err != nil {
				return nil, fmt.Errorf("photo directory: %w", err)
			}
			for _, s := range sub {
				if isPhotoFile(filepath.Join(abs, name), s) {
					photos = append(photos, photo{path: filepath.Join(abs, name, s.Name()), rel: name + "/" + s.Name(), user: name})
				}
			}
		case !hasDirs && isPhotoFile(abs, e):
			stem := strings.TrimSuffix(name, filepath.Ext(name))
			user, _, _ := strings.Cut(stem, "_")
			photos = append(photos, photo{path: filepath.Join(abs, name), rel: name, user: user})
		}
	}
	sort.Slice(photos, func(i, j int) bool { return photos[i].rel < photos[j].rel })
	return photos, nil
}

// isPhotoFile reports whether the entry of dir is a visible image file
// (following a symbolic link).
func isPhotoFile(dir string, e os.DirEntry) bool {
	if strings.HasPrefix(e.Name(), ".") || !photoExts[strings.ToLower(filepath.Ext(e.Name()))] {
		return false
	}
	if e.Type()&os.ModeSymlink != 0 {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && st.Mode().IsRegular()
	}
	return e.Type().IsRegular()
}

// readJournal loads the entries of earlier runs, keyed by file. A torn last
// line (a crash mid-write) is ignored: that photo is simply redone.
func readJournal(path string) (map[string]journalEntry, error) {
	done := map[string]journalEntry{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("enroll journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.File != "" {
			done[e.File] = e
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("enroll journal %s: %w", path, err)
	}
	return done, nil
}

// matches reports whether the journaled photo is still the file at path
// (same size and modification time); a replaced photo is redone.
func (e journalEntry) matches(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Size() == e.Size && st.ModTime().UnixNano() == e.ModTime
}

func writeJournal(w *bufio.Writer, e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("enroll journal: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("enroll journal: %w", err)
	}
	// A journal line only saves work on a re-run (the library itself
	// rejects a face enrolled twice), so flushing per line without an
	// fsync is enough.
	if err := w.Flush(); err != nil {
		return fmt.Errorf("enroll journal: %w", err)
	}
	return nil
}

func (s *enrollSummary) count(e journalEntry) {
	s.outcomes[e.Outcome]++
	if e.Outcome != outcomeAdded && e.Outcome != outcomeAlready && len(s.examples[e.Outcome]) < 5 {
		ex := e.File
		if e.Detail != "" {
			ex += " (" + e.Detail + ")"
		}
		s.examples[e.Outcome] = append(s.examples[e.Outcome], ex)
	}
}

// skipped is the number of photos handled in this run without adding a face.
func (s *enrollSummary) skipped() int {
	n := 0
	for o, c := range s.outcomes {
		if o != outcomeAdded && o != outcomeAlready {
			n += c
		}
	}
	return n
}

func (s *enrollSummary) print(w io.Writer) {
	fmt.Fprintf(w, "photos: %d\n", s.total)
	if s.resumed > 0 {
		fmt.Fprintf(w, "done in an earlier run: %d\n", s.resumed)
	}
	fmt.Fprintf(w, "faces added: %d\n", s.outcomes[outcomeAdded])
	if n := s.outcomes[outcomeAlready]; n > 0 {
		fmt.Fprintf(w, "already enrolled: %d\n", n)
	}
	fmt.Fprintf(w, "skipped: %d\n", s.skipped())
	reasons := make([]string, 0, len(s.outcomes))
	for o := range s.outcomes {
		if o != outcomeAdded && o != outcomeAlready {
			reasons = append(reasons, o)
		}
	}
	sort.Strings(reasons)
	for _, o := range reasons {
		fmt.Fprintf(w, "  %s: %d\n", o, s.outcomes[o])
		for _, ex := range s.examples[o] {
			fmt.Fprintf(w, "    %s\n", ex)
		}
	}
}

// progressBar reports an enrollment's progress on w. On a terminal (on) it
// is github.com/schollz/progressbar/v3, redrawn in place with the counts,
// rate and time left. Elsewhere (a log file, a pipe) a redrawn bar is noise,
// and the library has no plain-line mode, so a line every 10 s tells a long
// run is alive without flooding the log.
type progressBar struct {
	w     io.Writer
	total int
	done  int
	last  time.Time
	bar   *progressbar.ProgressBar // nil when not on a terminal
}

func newProgressBar(w io.Writer, on bool, total, done int) *progressBar {
	b := &progressBar{w: w, total: total, done: done}
	if on && w != nil {
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			// Redrawing more than ~10 times a second only costs
			// terminal time.
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		_ = b.bar.Set(done)
	}
	return b
}

func (b *progressBar) draw(s *enrollSummary) {
	if b.w == nil {
		return
	}
	if b.bar != nil {
		b.bar.Describe(fmt.Sprintf("added %d, skipped %d", s.outcomes[outcomeAdded], s.skipped()))
		_ = b.bar.Set(b.done)
		return
	}
	now := time.Now()
	if b.last.IsZero() {
		b.last = now
	}
	if b.done < b.total && now.Sub(b.last) >= 10*time.Second {
		b.last = now
		fmt.Fprintf(b.w, "enroll: %d/%d photos, added %d, skipped %d\n", b.done, b.total, s.outcomes[outcomeAdded], s.skipped())
	}
}

// finish ends the bar where it stands (an interrupted run is not shown
// complete) and leaves the cursor on a new line.
func (b *progressBar) finish() {
	if b.bar != nil && b.done < b.total {
		_ = b.bar.Exit()
	}
}

// isTerminal reports whether w is a character device (a terminal), where
// a self-redrawing progress bar makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
