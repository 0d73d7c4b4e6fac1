package quality

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/quality/internal/qtest"
)

// BeardedLFW are LFW images (../shared/testdata/lfw, a greyscale copy) of
// men with a full beard, a goatee or heavy stubble, roughly frontal and
// with nothing in front of the face, picked by eye from contact sheets of
// the people LFW has with beards plus 120 random LFW images (issue 13:
// quality control refused bearded men as "mouth occluded"). Photos with a
// hand, microphone or cigarette at the face, or turned well away, were
// left out.
var BeardedLFW = []string{
	"Abdel_Aziz_Al-Hakim_0001", "Abdul_Rahman_0001", "Abdullah_0001", "Abdullah_0002", "Abdullah_0003",
	"Abdullah_0004", "Akbar_Hashemi_Rafsanjani_0001", "Akbar_Hashemi_Rafsanjani_0003",
	"Ali_Adbul_Karim_Madani_0001", "Ali_Khamenei_0001", "Ali_Khamenei_0002", "Ali_Khamenei_0003",
	"Ali_Mohammed_Maher_0001", "Ben_Affleck_0006", "Billy_Crystal_0002", "Fidel_Castro_0001",
	"Fidel_Castro_0005", "Fidel_Castro_0007", "Fidel_Castro_0008", "Fidel_Castro_0011", "Fidel_Castro_0012",
	"Fidel_Castro_0013", "Fidel_Castro_0017", "Fidel_Castro_0018", "Francis_Ford_Coppola_0001",
	"Francis_Ford_Coppola_0002", "George_Lucas_0001", "Gerry_Adams_0001", "Gerry_Adams_0002",
	"Gerry_Adams_0003", "Gerry_Adams_0004", "Gerry_Adams_0005", "Gerry_Adams_0006", "Gerry_Adams_0007",
	"Gerry_Adams_0008", "Hamid_Karzai_0003", "Hamid_Karzai_0004", "Hamid_Karzai_0022", "Hassan_Nasrallah_0001",
	"Hassan_Nasrallah_0002", "Ismail_Abu_Shanab_0001", "Ismail_Khan_0001", "Johnny_Depp_0001",
	"Johnny_Depp_0002", "Kamal_Kharrazi_0001", "Kamal_Kharrazi_0002", "Kamal_Kharrazi_0003",
	"Kamal_Kharrazi_0005", "Kamal_Kharrazi_0006", "Kofi_Annan_0008", "Kofi_Annan_0013", "Kofi_Annan_0014",
	"Kofi_Annan_0025", "Kofi_Annan_0032", "Luciano_Pavarotti_0001", "Luciano_Pavarotti_0002",
	"Luiz_Inacio_Lula_da_Silva_0002", "Luiz_Inacio_Lula_da_Silva_0007", "Luiz_Inacio_Lula_da_Silva_0008",
	"Luiz_Inacio_Lula_da_Silva_0009", "Luiz_Inacio_Lula_da_Silva_0010", "Luiz_Inacio_Lula_da_Silva_0011",
	"Luiz_Inacio_Lula_da_Silva_0019", "Luiz_Inacio_Lula_da_Silva_0028", "Luiz_Inacio_Lula_da_Silva_0036",
	"Luiz_Inacio_Lula_da_Silva_0039", "Luiz_Inacio_Lula_da_Silva_0044", "Michael_Moore_0001",
	"Michael_Moore_0002", "Michael_Moore_0003", "Mohammad_Khatami_0001", "Mohammad_Khatami_0003",
	"Mohammad_Khatami_0005", "Mohammad_Khatami_0008", "Mohammad_Khatami_0009", "Mohammed_Baqir_al-Hakim_0001",
	"Mohammed_Baqir_al-Hakim_0002", "Mohammed_Baqir_al-Hakim_0003", "Noor_Mohammed_0001", "Omar_Sharif_0001",
	"Omar_Sharif_0002", "Omar_Sharif_0003", "Omar_Sharif_0004", "Osama_bin_Laden_0002", "Osama_bin_Laden_0003",
	"Osama_bin_Laden_0004", "Qazi_Hussain_Ahmed_0001", "Richard_Branson_0002", "Salman_Rushdie_0001",
	"Salman_Rushdie_0002", "Salman_Rushdie_0003", "Sheikh_Ahmed_Yassin_0001", "Steven_Spielberg_0001",
	"Steven_Spielberg_0004", "Steven_Spielberg_0005", "Steven_Spielberg_0006", "Uday_Hussein_0001",
	"Willie_Nelson_0001", "Yasser_Arafat_0001", "Yasser_Arafat_0002", "Yasser_Arafat_0003",
	"Yasser_Arafat_0006", "Yasser_Arafat_0008",
}

// MoustachedLFW are LFW images of men with a moustache and no beard,
// picked the same way.
var MoustachedLFW = []string{
	"Aaron_Tippin_0001", "Abdullah_Gul_0001", "Abdullah_Gul_0006", "Abdullah_Gul_0007", "Abdullah_Gul_0008",
	"Abdullah_Gul_0009", "Abdullah_Gul_0012", "Abdullah_Gul_0014", "Abdullah_al-Attiyah_0002",
	"Ahmet_Demir_0001", "Al_Sharpton_0003", "Alan_Dreher_0001", "Ali_Abdullah_Saleh_0001",
	"Ali_Bin_Hussein_0001", "Ali_Naimi_0001", "Ali_Naimi_0002", "Ali_Naimi_0005", "Ali_Naimi_0008",
	"Faisal_Saleh_Hayat_0001", "Jose_Maria_Aznar_0013", "Jose_Maria_Aznar_0017", "Jose_Maria_Aznar_0020",
	"Jose_Maria_Aznar_0022", "Jose_Maria_Aznar_0023", "Joseph_Estrada_0003", "Mahmoud_Abbas_0007",
	"Mahmoud_Abbas_0011", "Mahmoud_Abbas_0020", "Mahmoud_Abbas_0022", "Mahmoud_Abbas_0027",
	"Mahmoud_Diyab_al-Ahmed_0001", "Mohammed_Abulhasan_0001", "Naji_Sabri_0001", "Naji_Sabri_0002",
	"Naji_Sabri_0003", "Naji_Sabri_0004", "Naji_Sabri_0006", "Naji_Sabri_0007", "Pervez_Musharraf_0001",
	"Pervez_Musharraf_0002", "Pervez_Musharraf_0003", "Pervez_Musharraf_0004", "Pervez_Musharraf_0006",
	"Pervez_Musharraf_0007", "Pervez_Musharraf_0010", "Pervez_Musharraf_0014", "Pervez_Musharraf_0015",
	"Pervez_Musharraf_0016", "Qusai_Hussein_0001", "Raza_Rabbani_0001", "Recep_Tayyip_Erdogan_0002",
	"Recep_Tayyip_Erdogan_0012", "Recep_Tayyip_Erdogan_0016", "Recep_Tayyip_Erdogan_0017",
	"Recep_Tayyip_Erdogan_0019", "Saddam_Hussein_0002", "Saddam_Hussein_0004", "Saddam_Hussein_0006",
	"Saddam_Hussein_0009", "Saddam_Hussein_0011", "Sean_Penn_0001", "Sean_Penn_0002", "Sean_Penn_0003",
	"Taha_Yassin_Ramadan_0003", "Taha_Yassin_Ramadan_0007", "Taha_Yassin_Ramadan_0012", "Tariq_Aziz_0003",
	"Tariq_Aziz_0005", "Thabo_Mbeki_0003", "Vicente_Fernandez_0005",
}

// HeldOutBeardedLFW are bearded LFW images picked the same way but after
// the side-contrast evidence (issue 13) was designed on the faces above,
// and before measuring them: by eye from six contact sheets of 96 LFW
// images not in either list above (shuffled with seed 13), every face
// with a clear full beard, goatee or heavy stubble, roughly frontal and
// with nothing in front of it.
var HeldOutBeardedLFW = []string{
	"Robin_Cook_0002", "Miroljub_0002", "Grady_Irvin_Jr_0002", "Gregory_Hines_0001", "Habib_Rizieq_0003",
	"King_Abdullah_II_0005", "Leander_Paes_0002", "Hamid_Karzai_0013", "Saoud_Al_Faisal_0001",
	"Abdel_Nasser_Assidi_0001", "Oscar_Bolanos_0001", "Jeremy_Shockey_0002", "Robin_Cook_0001",
	"Robert_De_Niro_0005", "Mohammad_Fares_0001", "Perry_Compton_0001", "Pupi_Avati_0003",
	"Martin_Luther_King_III_0001", "Xanana_Gusmao_0004", "Keith_Osik_0001",
}

// lfwSet is a list of LFW images with the name its subtests and lfwFaces'
// cache go by, and the words the docs tables use for it.
type lfwSet struct {
	name          string
	names         []string
	label, people string
}

var (
	beardSet        = lfwSet{"Beards", BeardedLFW, "beard", "bearded"}
	moustacheSet    = lfwSet{"Moustaches", MoustachedLFW, "moustache", "moustached"}
	heldOutBeardSet = lfwSet{"HeldOutBeards", HeldOutBeardedLFW, "held-out beard", "bearded"}
)

// faces detects the set's images once per test binary (see lfwFaces).
func (s lfwSet) faces(tb testing.TB) []lfwFace { return lfwFaces(tb, s.name, s.names) }

// lfwFace is a decoded LFW image with its largest face.
type lfwFace struct {
	name string
	img  *imageio.Image
	face engine.Face
}

var (
	lfwMu    sync.Mutex
	lfwCache = map[string][]lfwFace{}
)

// lfwFaces decodes and detects the named LFW images once per test binary;
// images where HOG finds no face are logged and left out.
func lfwFaces(tb testing.TB, set string, names []string) []lfwFace {
	tb.Helper()
	lfwMu.Lock()
	defer lfwMu.Unlock()
	if fs, ok := lfwCache[set]; ok {
		return fs
	}
	dir := filepath.Join(testenv.TestData(tb), "lfw", "images")
	var out []lfwFace
	for _, n := range names {
		img := qtest.DecodeFile(tb, filepath.Join(dir, n[:strings.LastIndex(n, "_")], n+".jpg"))
		f, ok := qtest.Detect(tb, img)
		if !ok {
			tb.Logf("%s: no face found", n)
			continue
		}
		out = append(out, lfwFace{n, img, f})
	}
	lfwCache[set] = out
	return out
}

// occlusionRefusals measures every face and returns the names of those
// NORMAL refuses for an occluded region, with the regions and scores.
func occlusionRefusals(tb testing.TB, faces []lfwFace) (refused []string, reports []Report) {
	tb.Helper()
	for _, f := range faces {
		r, err := Measure(f.img, f.face)
		if err != nil {
			tb.Fatalf("%s: %v", f.name, err)
		}
		reports = append(reports, r)
		if regions := occludedRegions(r); len(regions) > 0 {
			refused = append(refused, f.name+": "+describeRegions(r, regions))
		}
	}
	sort.Strings(refused)
	return refused, reports
}

// occludedRegions are the regions for which Check refuses r at NORMAL.
func occludedRegions(r Report) []int {
	var ce *CheckError
	if !errors.As(Check(r, LevelNormal), &ce) {
		return nil
	}
	var regions []int
	for _, e := range ce.Failures {
		for i, oe := range occlusionErrors {
			if errors.Is(e, oe) {
				regions = append(regions, i)
			}
		}
	}
	return regions
}

// describeRegions names the regions with their scores in r.
func describeRegions(r Report, regions []int) string {
	parts := make([]string, len(regions))
	for k, i := range regions {
		parts[k] = fmt.Sprintf("%s %.2f", regionNames[i], r.Occlusion.values()[i])
	}
	return strings.Join(parts, ", ")
}

// TestBeardsAreNotOcclusion checks how many bearded and moustached
// frontal faces NORMAL refuses for occlusion: issue 13's target is at most
// 1 in 100 (at least 1 allowed per set). Refusals for pose, blur or size
// are not this test's concern. Before the chin's beard reading two full
// black beards of BeardedLFW were refused for the chin (Abdul_Rahman_0001,
// Luciano_Pavarotti_0001); the one refusal left is a deep shadow round an
// eye (Omar_Sharif_0003), not the beard (docs/quality.md).
func TestBeardsAreNotOcclusion(t *testing.T) {
	if testing.Short() {
		t.Skip("detects 193 LFW images")
	}
	for _, set := range []lfwSet{beardSet, moustacheSet, heldOutBeardSet} {
		t.Run(set.name, func(t *testing.T) {
			faces := set.faces(t)
			if len(faces) < len(set.names)*9/10 {
				t.Fatalf("only %d of %d faces detected", len(faces), len(set.names))
			}
			refused, _ := occlusionRefusals(t, faces)
			for _, r := range refused {
				t.Log(r)
			}
			t.Logf("%d of %d faces refused for occlusion at NORMAL", len(refused), len(faces))
			allowed := max(1, len(faces)/100)
			if len(refused) > allowed {
				t.Errorf("%d of %d faces refused for occlusion at NORMAL, want at most %d", len(refused), len(faces), allowed)
			}
		})
	}
}

// minBeardOccluderRate is the share of bearded and moustached LFW faces on
// which a pasted mouth occluder must read as covering the mouth. The
// clean landmarks are used (no re-detection), so only the estimator is
// under test. Measured: each mask on every face; the hand on all but one
// face of each set (Billy_Crystal_0002, whose grimace puts the fitted
// mouth at the hand's upper edge, and Saddam_Hussein_0009, whose smile
// puts the mouth at its lower edge), the same two as before the
// side-contrast evidence was added.
const minBeardOccluderRate = 0.97

// TestOcclusionMouthOccludersOnBeards: the evidence that lets beards and
// moustaches through must not let a mask or a hand over a bearded mouth
// through. Every occluder that covers the mouth is pasted on the LFW
// faces of TestBeardsAreNotOcclusion (greyscale, like the beards).
func TestOcclusionMouthOccludersOnBeards(t *testing.T) {
	if testing.Short() {
		t.Skip("detects 173 LFW images")
	}
	for _, set := range []lfwSet{beardSet, moustacheSet} {
		faces := set.faces(t)
		for _, oc := range occluders {
			if !slices.Contains(oc.covered, regMouth) {
				continue
			}
			t.Run(set.name+"/"+oc.name, func(t *testing.T) {
				pass, missed := pastedCovered(t, faces, oc, regMouth)
				for _, m := range missed {
					t.Log(m)
				}
				if rate := float64(pass) / float64(len(faces)); rate < minBeardOccluderRate {
					t.Errorf("mouth read covered on %d of %d faces (%.0f%%), want ≥ %.0f%%", pass, len(faces), 100*rate, 100*minBeardOccluderRate)
				}
			})
		}
	}
}

// pastedCovered pastes oc on each face (placed by the face's own
// landmarks, no re-detection) and counts the faces on which region reads
// covered at NORMAL; missed describes the others.
func pastedCovered(tb testing.TB, faces []lfwFace, oc occluder, region int) (covered int, missed []string) {
	tb.Helper()
	normal, _ := LevelThresholds(LevelNormal)
	limit := normal.Occlusion[region]
	for _, f := range faces {
		img := qtest.Clone(f.img)
		oc.paste(img, frameOf(f.face))
		r, err := Measure(img, f.face)
		if err != nil {
			tb.Fatalf("%s: %v", f.name, err)
		}
		if score := r.Occlusion.values()[region]; score >= limit {
			covered++
		} else {
			missed = append(missed, fmt.Sprintf("%s: %s scored %.2f (limit %.2f)", f.name, regionNames[region], score, limit))
		}
	}
	return covered, missed
}

// occluderNamed returns the pasted occluder of that name.
func occluderNamed(tb testing.TB, name string) occluder {
	tb.Helper()
	for _, oc := range occluders {
		if oc.name == name {
			return oc
		}
	}
	tb.Fatalf("no occluder named %q", name)
	return occluder{}
}

// TestChinOccludersAreNotBeards: the below-the-chin evidence that lets a
// full black beard through must not let an occluder over the chin
// through. Every occluder that covers the chin is pasted on the bearded
// and moustached LFW faces and on the test photos (their own landmarks);
// wherever the chin's skin evidence alone reads it covered at NORMAL,
// the reported chin score must too. (The test photos are also checked
// with the face detected again, in TestOcclusionSeparatesPastedOccluders.)
func TestChinOccludersAreNotBeards(t *testing.T) {
	if testing.Short() {
		t.Skip("detects 173 LFW images")
	}
	normal, _ := LevelThresholds(LevelNormal)
	limit := normal.Occlusion[regChin]
	faces := slices.Concat(beardSet.faces(t), moustacheSet.faces(t))
	for _, p := range photosForTest(t) {
		faces = append(faces, lfwFace{p.Name, p.Img, p.Face})
	}
	for _, oc := range occluders {
		if !slices.Contains(oc.covered, regChin) {
			continue
		}
		t.Run(oc.name, func(t *testing.T) {
			bySkin, letThrough := 0, 0
			for _, f := range faces {
				img := qtest.Clone(f.img)
				oc.paste(img, frameOf(f.face))
				o, ev := measureOcclusion(makeChip(img, f.face.Landmarks))
				skinOnly := ev.nonSkinScore(regChin)
				if skinOnly < limit {
					continue
				}
				bySkin++
				if o.ChinContour < limit {
					letThrough++
					t.Errorf("%s: chin %.2f by its skin evidence, reported %.2f (below the chin %.2f, mouth %.2f)", f.name, skinOnly, o.ChinContour, ev.chinBelow, o.Mouth)
				}
			}
			t.Logf("skin evidence reads the chin covered on %d of %d faces; read as a beard: %d", bySkin, len(faces), letThrough)
		})
	}
}

// ChinOccludedLFW, MouthOccludedLFW and EyeOccludedLFW are LFW images with
// a real object over the chin (five microphones held at the mouth, a glass
// being drunk from, a shirt held in the teeth), the mouth (hands) or the
// eyes (sunglasses): found by
// measuring all 7,676 LFW faces HOG detects and looking at each face NORMAL
// refuses for the chin, the mouth or an eye (TestLFWOcclusionScan;
// docs/quality.md, "Beards and moustaches").
var (
	ChinOccludedLFW = []string{
		"David_Bisbal_0001", "Ellen_DeGeneres_0002", "Kurt_Busch_0002", "Richard_Branson_0001", "Sidney_Kimmel_0001",
		"Paul_Bremer_0014", "Chris_Hernandez_0001",
	}
	MouthOccludedLFW = []string{"Jose_Manuel_Durao_Barroso_0001", "Kathryn_Bigelow_0002"}
	// EyeOccludedLFW are dark sunglasses whose lenses show as much
	// contrast against the ring round the eye as an eye does; a discount of
	// the ring where that contrast shows (tried for Omar_Sharif_0003's
	// shadowed eye) let them through.
	EyeOccludedLFW = []string{
		"Bruno_Junquiera_0001", "Claudette_Robinson_0001", "Heath_Ledger_0002", "Keanu_Reeves_0006", "Kelly_Osbourne_0001",
		"Kimi_Raikkonen_0002", "MC_Hammer_0001", "Michael_Schumacher_0017", "Park_Na-kyong_0001", "Victoria_Beckham_0003",
	}
)

// TestRealOccludersAreRefused: real objects over the chin or mouth must
// still be refused at NORMAL, however much like a beard or a closed mouth
// they look in greyscale. Each list once failed a change that looked
// right on the pasted occluders. Reading the chin as a beard from the contrast
// below it and the visible mouth alone let six of the seven chin
// occluders through (the jowls keep them out); widening the mouth's
// side-contrast ramp to 0.045→0.085, which would pass 35 of the 67 faces
// refused as "mouth occluded" in LFW, let Kathryn_Bigelow_0002's clasped
// hands through; counting the eye ring only for its share of the region
// where the eye's dark detail shows let all the sunglasses through.
func TestRealOccludersAreRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("detects LFW images")
	}
	names := slices.Concat(ChinOccludedLFW, MouthOccludedLFW, EyeOccludedLFW)
	faces := lfwFaces(t, "RealOccluders", names)
	if len(faces) != len(names) {
		t.Fatalf("only %d of %d faces detected", len(faces), len(names))
	}
	for _, f := range faces {
		r, err := Measure(f.img, f.face)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if regions := occludedRegions(r); len(regions) > 0 {
			t.Logf("%s: %s", f.name, describeRegions(r, regions))
		} else {
			t.Errorf("%s: passed NORMAL's occlusion limits (chin %.2f, mouth %.2f)", f.name, r.Occlusion.ChinContour, r.Occlusion.Mouth)
		}
	}
}
