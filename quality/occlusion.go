package quality

import "math"

// Occlusion is the estimated covered share (0 visible … 1 fully covered) of
// each face part. Left and right are the image's left and right, which is
// Baidu's convention: its documented detect example puts the 左眼中心
// (left-eye centre) landmark at x = 161.7 in a face box spanning
// 117–289, i.e. on the image's left half. So LeftEye is the person's right
// eye (iBUG landmarks 36–41) and LeftCheek the cheek on the image's left.
type Occlusion struct {
	LeftEye     float64
	RightEye    float64
	Nose        float64
	Mouth       float64
	LeftCheek   float64
	RightCheek  float64
	ChinContour float64
}

// occlusionEvidence holds the raw measurements behind each region's score,
// kept for calibration and for the figures in docs/quality.md.
type occlusionEvidence struct {
	// nonSkin is the share of non-skin pixels of the region (for eyes and
	// mouth: of the ring of skin around the part).
	nonSkin [numRegions]float64
	// structure is, for eyes and mouth, how much of the part's expected
	// structure is visible (0 none … 1 as on a clean face).
	structure [numRegions]float64
	// eyeContrast and mouthContrast are the raw dark-detail contrasts
	// (against the ring), lipLine the lip line's against the lower lip;
	// lipRedness the raw lip-vs-skin chroma difference in skin spreads.
	eyeContrast   [2]float64
	mouthContrast float64
	lipLine       float64
	lipRedness    float64
	// mouthSides is how much the rows across the middle of the mouth
	// differ from the rows just beside its image-left and image-right
	// corners (see mouthSideContrast).
	mouthSides [2]float64
	// chinBelow is how much what covers the chin differs from what lies
	// below it (see chinBelowContrast); jowls the non-skin share of the
	// image-left and image-right jowl, between the mouth corner and the
	// jaw.
	chinBelow float64
	jowls     [2]float64
	skin      skinModel
}

// region indices, in the order of the Occlusion fields.
const (
	regLeftEye = iota
	regRightEye
	regNose
	regMouth
	regLeftCheek
	regRightCheek
	regChin
	numRegions
)

// regionNames label the regions in the docs tables and test logs, in
// region order.
var regionNames = [numRegions]string{"left_eye", "right_eye", "nose", "mouth", "left_cheek", "right_cheek", "chin_contour"}

// Non-skin share that clean, unoccluded regions show anyway (nostrils,
// shadows under the nose and jaw, lashes and brows at the edge of the eye
// ring, make-up, a landmark fit a few pixels off). Scores count only
// non-skin beyond this baseline, scaled so that a fully covered region
// scores 1: score = (nonSkin − base)/(1 − base). Each base is the median
// non-skin share of that region on the 31 clean test photos, rounded up
// to a multiple of 0.05 (eyes: the mean of the two eyes' medians 0.28 and
// 0.20; nose 0.09, mouth ring 0.11, cheeks 0.01 and 0.00, chin 0.02).
var nonSkinBase = [numRegions]float64{
	regLeftEye: 0.25, regRightEye: 0.25,
	regNose:      0.10,
	regMouth:     0.15,
	regLeftCheek: 0.05, regRightCheek: 0.05,
	regChin: 0.05,
}

// Structure calibration. An open or closed eye always shows a dark detail
// (iris, pupil, lash line) against the lids around it; a mouth shows lips
// redder than the skin or a dark line between the lips (darker than the
// skin around them or than the lower lip). The contrast at
// which the structure counts as absent (…Gone) and as fully present
// (…Full) are set from the clean photos and the pasted occluders.
const (
	eyeContrastGone, eyeContrastFull     = 0.12, 0.35
	mouthContrastGone, mouthContrastFull = 0.20, 0.40
	lipRednessGone, lipRednessFull       = 1.0, 3.0
	// lipLine (the line between the lips against the lower lip) over
	// the 31 test photos, in colour and greyscale: a pasted hand at most
	// 0.19, a mask 0.02; clean faces median 0.47; bearded LFW faces 10th
	// percentile 0.22. Hence the narrow ramp just above the hand.
	lipLineGone, lipLineFull = 0.20, 0.25
	// mouthSides (the smaller of the two sides, see mouthSideContrast)
	// with the clean landmarks, pasted occluders over the 31 test photos
	// in colour and greyscale and over the 172 bearded and moustached LFW
	// faces: light-blue mask at most 0.009, a dark mask 0.047, the hand
	// 0.036 (0.105 on one LFW face whose grimace puts the fitted mouth
	// at the hand's upper edge; the other cues already read that hand as
	// only 0.21 covered). Clean photos at least 0.087; bearded faces the
	// lip cues refused 0.082–0.204. Visible from 0.06 to 0.10, so that an
	// occluder needs 0.072 to pass the NORMAL mouth limit of 0.7.
	mouthSidesGone, mouthSidesFull = 0.06, 0.10
	// chinBelow (see chinBelowContrast): a dark scarf pulled up over
	// the chin and down the neck at most 0.034 on the 31 test photos and
	// the 192 bearded and moustached LFW faces, both with their own
	// landmarks (223 pastes) and detected again on the doctored photo
	// (211). Gone at three times that; full at a 30% luma step, a plainly
	// visible edge.
	chinBelowGone, chinBelowFull = 0.10, 0.30
	// jowls (the smaller of the two sides' non-skin share): full when at
	// least half of each jowl is covered. Microphones held at the chin in
	// LFW at most 0.22.
	jowlsGone, jowlsFull = 0.30, 0.50
)

// ramp maps x linearly from [gone, full] to [0, 1], clamped.
func ramp(x, gone, full float64) float64 { return clamp01((x - gone) / (full - gone)) }

// measureOcclusion estimates every region's occlusion on the chip.
//
// Evidence and how it is combined:
//   - Skin agreement: each region is compared with a skin model learnt from
//     the same face (see learnSkin). For cheeks, nose and chin the score is
//     the non-skin share beyond the clean baseline. Masks, sunglasses,
//     black bars, hair and scarves differ from the face's own skin in
//     chroma or by a large factor in brightness.
//   - Part structure, for eyes and mouth, where a skin-coloured occluder
//     (a hand) would pass the colour test: the eye box must contain a dark
//     detail relative to the lids around it, the mouth must show lip
//     colour or a dark line. Missing structure scores 1 − visibility.
//   - Eyes and mouth take the maximum of the two: either kind of evidence
//     alone is enough to say the part is hidden, and neither reports a
//     fraction larger than what it measured.
func measureOcclusion(c *chip) (Occlusion, occlusionEvidence) {
	lm := c.lm
	iod := lm[39].dist(lm[42])*0.5 + mean(lm[36:42]...).dist(mean(lm[42:48]...))*0.5
	var ev occlusionEvidence

	// Region polygons in chip coordinates.
	eyeRegions := func(a int) (ring, inner []int) {
		e := mean(lm[a : a+6]...)
		w := math.Max(lm[a].dist(lm[a+3]), 0.3*iod)
		outer := c.polygonPixels(box(e, 1.7*w, 0.9*w))
		inner = c.polygonPixels(box(e, 1.0*w, 0.5*w))
		return minus(outer, inner), inner
	}
	ringL, innerL := eyeRegions(36)
	ringR, innerR := eyeRegions(42)

	side := func(p, q pt, t float64) pt { return lerp(p, q, -t) } // p pushed away from q
	nose := c.polygonPixels(shrink([]pt{lm[27], side(lm[31], lm[33], 0.2), lm[32], lm[33], lm[34], side(lm[35], lm[33], 0.2)}, 0.05))
	lipPoly := shrink(lm[48:60], -0.15)
	mouthIn := c.polygonPixels(shrink(lm[48:60], 0.1))
	mc := mean(lm[48:60]...)
	mw := math.Max(lm[48].dist(lm[54]), 0.4*iod)
	mh := math.Max(lm[51].dist(lm[57]), 0.15*iod)
	mouthRing := minus(c.polygonPixels(box(mc, 1.5*mw, mh+0.6*mw)), c.polygonPixels(lipPoly))
	cheekL := c.polygonPixels(shrink([]pt{lm[36], lm[1], lm[2], lm[3], lm[4], lm[48], lm[31], lm[40], lm[41]}, 0.2))
	cheekR := c.polygonPixels(shrink([]pt{lm[45], lm[15], lm[14], lm[13], lm[12], lm[54], lm[35], lm[47], lm[46]}, 0.2))
	chin := c.polygonPixels(shrink([]pt{lm[5], lm[6], lm[7], lm[8], lm[9], lm[10], lm[11], lm[55], lm[56], lm[57], lm[58], lm[59]}, 0.15))

	// Reference skin: the forehead just above the brows, the nose bridge
	// and all skin regions. The skin model's mode-seeking picks the face's
	// own colour even when a few of these are covered.
	browTop := math.Min(mean(lm[17:22]...).Y, mean(lm[22:27]...).Y)
	forehead := c.polygonPixels([]pt{{lm[19].X, browTop - 0.45*iod}, {lm[24].X, browTop - 0.45*iod}, {lm[24].X, browTop - 0.12*iod}, {lm[19].X, browTop - 0.12*iod}})
	bridge := c.polygonPixels(box(pt{(lm[39].X + lm[42].X) / 2, (lm[27].Y + lm[28].Y) / 2}, 0.3*iod, lm[28].Y-lm[27].Y+0.2*iod))
	underEye := func(a int) []int {
		e := mean(lm[a : a+6]...)
		w := math.Max(lm[a].dist(lm[a+3]), 0.3*iod)
		return c.polygonPixels(box(pt{e.X, e.Y + 0.55*w}, 0.9*w, 0.3*w))
	}
	philtrum := c.polygonPixels(box(lerp(lm[33], lm[51], 0.5), 0.5*mw, 0.6*lm[33].dist(lm[51])))
	ref := [][]int{forehead, bridge, nose, cheekL, cheekR, chin, underEye(36), underEye(42), philtrum}
	skin := learnSkin(c, ref)
	ev.skin = skin

	ev.nonSkin[regLeftEye] = skin.nonSkinFraction(c, ringL)
	ev.nonSkin[regRightEye] = skin.nonSkinFraction(c, ringR)
	ev.nonSkin[regNose] = skin.nonSkinFraction(c, nose)
	ev.nonSkin[regMouth] = skin.nonSkinFraction(c, mouthRing)
	ev.nonSkin[regLeftCheek] = skin.nonSkinFraction(c, cheekL)
	ev.nonSkin[regRightCheek] = skin.nonSkinFraction(c, cheekR)
	ev.nonSkin[regChin] = skin.nonSkinFraction(c, chin)

	// Eye structure: darkest detail inside the eye box against the median
	// of the ring around it, relative to that median.
	for k, r := range [2][2][]int{{ringL, innerL}, {ringR, innerR}} {
		ringMed, ok1 := percentileY(c, r[0], 0.5)
		dark, ok2 := percentileY(c, r[1], 0.05)
		con := 0.0
		if ok1 && ok2 {
			con = (ringMed - dark) / (ringMed + 10)
		}
		ev.eyeContrast[k] = con
		ev.structure[regLeftEye+k] = ramp(con, eyeContrastGone, eyeContrastFull)
	}
	// Mouth structure: lips redder than the skin right around them, or a
	// dark line between the lips darker than the darker parts of that
	// skin. Both compare the mouth with its own surroundings, so a
	// skin-coloured occluder spread over mouth and surroundings alike
	// (a hand, with creases between the fingers) shows neither.
	{
		ringLow, ok1 := percentileY(c, mouthRing, 0.25)
		ringMed, _ := percentileY(c, mouthRing, 0.5)
		dark, ok2 := percentileY(c, mouthIn, 0.05)
		con := 0.0
		if ok1 && ok2 {
			con = (ringLow - dark) / (ringMed + 10)
		}
		// A beard or moustache darkens the ring as much as the line
		// (issue 13: bearded men refused as "mouth occluded"). So the
		// line is also measured against the lower lip, along the fitted
		// inner lip line: a hand's creases seldom follow that line, and
		// a moustache may hang over the upper lip but not the lower.
		gap := c.polygonPixels(box(mean(lm[60:68]...), 0.8*mw, math.Max(lm[62].dist(lm[66]), 0.06*mw)+0.08*mw))
		lowerLip := minus(c.polygonPixels(shrink([]pt{lm[54], lm[55], lm[56], lm[57], lm[58], lm[59], lm[48], lm[60], lm[67], lm[66], lm[65], lm[64]}, 0.1)), gap)
		if lipMed, ok3 := percentileY(c, lowerLip, 0.5); ok3 {
			if gapDark, ok4 := percentileY(c, gap, 0.1); ok4 {
				ev.lipLine = (lipMed - gapDark) / (lipMed + 10)
			}
		}
		ev.mouthSides = mouthSideContrast(c, mw)
		red := 0.0
		if !skin.grey {
			red = (medianV(c, mouthIn) - medianV(c, mouthRing)) / skin.sv
		}
		ev.mouthContrast, ev.lipRedness = con, red
		ev.structure[regMouth] = max(ramp(con, mouthContrastGone, mouthContrastFull), ramp(red, lipRednessGone, lipRednessFull),
			ramp(ev.lipLine, lipLineGone, lipLineFull), ramp(min(ev.mouthSides[0], ev.mouthSides[1]), mouthSidesGone, mouthSidesFull))
	}

	var s [numRegions]float64
	for r := range s {
		s[r] = ev.nonSkinScore(r)
	}
	for _, r := range []int{regLeftEye, regRightEye, regMouth} {
		s[r] = math.Max(s[r], 1-ev.structure[r])
	}
	// A full black beard is as far from the skin as a dark scarf or a
	// microphone (issue 13: bearded men refused as "chin occluded").
	// Three things tell a beard, each of them what one kind of occluder
	// lacks: it grows on both jowls as well as on the chin (a microphone,
	// a glass or a hand at the chin leaves the jowls bare); it ends at the
	// chin, where the neck, a collar or the background begins (a scarf
	// runs on down the neck); and the mouth above it shows (a mask or a
	// hand over the lower face covers it). The chin reads at most
	// 1 − (jowls covered × differs below × mouth visible).
	ev.chinBelow = chinBelowContrast(c, skin, iod)
	jowlL := c.polygonPixels(shrink([]pt{lm[48], lm[3], lm[4], lm[5], lm[59]}, 0.15))
	jowlR := c.polygonPixels(shrink([]pt{lm[54], lm[13], lm[12], lm[11], lm[55]}, 0.15))
	ev.jowls = [2]float64{skin.nonSkinFraction(c, jowlL), skin.nonSkinFraction(c, jowlR)}
	beard := ramp(min(ev.jowls[0], ev.jowls[1]), jowlsGone, jowlsFull) * ramp(ev.chinBelow, chinBelowGone, chinBelowFull) * (1 - s[regMouth])
	s[regChin] = math.Min(s[regChin], 1-beard)
	return Occlusion{
		LeftEye: s[regLeftEye], RightEye: s[regRightEye], Nose: s[regNose], Mouth: s[regMouth],
		LeftCheek: s[regLeftCheek], RightCheek: s[regRightCheek], ChinContour: s[regChin],
	}, ev
}

// nonSkinScore is region r's score from its skin evidence alone: the
// non-skin share beyond the clean baseline, scaled so that a fully covered
// region scores 1.
func (ev occlusionEvidence) nonSkinScore(r int) float64 {
	return clamp01((ev.nonSkin[r] - nonSkinBase[r]) / (1 - nonSkinBase[r]))
}

// values returns the scores in region order.
func (o Occlusion) values() [numRegions]float64 {
	return [numRegions]float64{o.LeftEye, o.RightEye, o.Nose, o.Mouth, o.LeftCheek, o.RightCheek, o.ChinContour}
}

// medianV is the median normalised red chroma of the valid pixels idx.
func medianV(c *chip, idx []int) float64 {
	var vs []float64
	for _, i := range idx {
		if c.valid[i] {
			vs = append(vs, float64(c.v[i]))
		}
	}
	m, _ := medianMAD(vs)
	return m
}

// mouthSideContrast compares the mouth with what lies beside it, row by
// row: the median luma of each chip row across the middle half of the
// mouth against the same rows just beside each corner (from 0.05 to 0.25
// mouth widths out), over the lips' height plus a tenth of the mouth
// width above and below. It returns, for the image-left and the
// image-right side, the mean relative difference of the two row
// profiles.
//
// Why: the lip cues look for one particular structure (red lips, a dark
// line between them) and miss a mouth whose lips are pale inside a dark
// beard, parted over teeth, or blurred, or whose landmark fit sits off
// the lip line. Whatever the mouth looks like, it differs from the
// cheek or beard beside it, while an occluder that hides the mouth (a
// hand, a mask, a bar) lies across the corners too and shows the same
// rows there: flat where it is flat, with the same creases or pleats
// where it has them. So the evidence is the smaller of the two sides:
// both must differ. The side profile may be shifted by up to two rows
// (a crease or the lip line tilted by a few degrees against the chip's
// rows after alignment), keeping the shift that matches best.
func mouthSideContrast(c *chip, mw float64) [2]float64 {
	lm := c.lm
	const shift = 2
	var out [2]float64
	top := math.Max(math.Min(lm[50].Y, lm[52].Y)-0.1*mw, 0)
	bot := math.Min(lm[57].Y+0.1*mw, chipRows-1)
	if !(bot-top >= 2) {
		return out // degenerate landmarks (or NaN): no rows to compare
	}
	y0, y1 := int(math.Floor(top))-shift, int(math.Ceil(bot))+shift
	mid := rowMedians(c, lerp(lm[48], lm[54], 0.25).X, lerp(lm[48], lm[54], 0.75).X, y0, y1)
	sides := [2][]float64{
		rowMedians(c, lm[48].X-0.25*mw, lm[48].X-0.05*mw, y0, y1),
		rowMedians(c, lm[54].X+0.05*mw, lm[54].X+0.25*mw, y0, y1),
	}
	for k, side := range sides {
		best := math.Inf(1)
		for s := -shift; s <= shift; s++ {
			var sum float64
			n := 0
			for r := shift; r < len(mid)-shift; r++ {
				a, b := mid[r], side[r+s]
				if math.IsNaN(a) || math.IsNaN(b) {
					continue
				}
				sum += math.Abs(a-b) / (math.Max(a, b) + 10)
				n++
			}
			if n > 0 {
				best = math.Min(best, sum/float64(n))
			}
		}
		if !math.IsInf(best, 1) {
			out[k] = best
		}
	}
	return out
}

// chinBelowContrast tells a beard from a scarf by what lies below the
// chin. The chin area is a box under the lower lip (from 0.15 to 0.6
// inter-ocular distances below it, 0.8 wide); its non-skin pixels are
// what covers the chin, and their median luma is that material's. It is
// compared with three squares 1.3 distances below the lower lip (0.3 to
// either side and in the middle, 0.16 a side), below the chin of
// nearly every face: the median of the three relative luma differences,
// weighted by the non-skin share of the chin box. 0 when the chin shows
// no non-skin or a patch lies off the image.
//
// The distances are taken from the lower lip, not from the fitted jaw
// line: when the face is detected again on a photo with a scarf over the
// chin, dlib fits the jaw line along the scarf's upper edge, but the
// mouth stays where it is.
func chinBelowContrast(c *chip, skin skinModel, iod float64) float64 {
	lip := c.lm[57]
	chin := c.polygonPixels(box(pt{lip.X, lip.Y + 0.375*iod}, 0.8*iod, 0.45*iod))
	var covered []int
	for _, i := range chin {
		if c.valid[i] && !skin.isSkin(c, i) {
			covered = append(covered, i)
		}
	}
	material, ok := percentileY(c, covered, 0.5)
	if !ok {
		return 0
	}
	var diffs []float64
	for _, a := range []float64{-0.3, 0, 0.3} {
		y, ok := percentileY(c, c.polygonPixels(box(pt{lip.X + a*iod, lip.Y + 1.3*iod}, 0.16*iod, 0.16*iod)), 0.5)
		if !ok {
			return 0
		}
		diffs = append(diffs, math.Abs(y-material)/(math.Max(y, material)+10))
	}
	m, _ := medianMAD(diffs)
	return float64(len(covered)) / float64(len(chin)) * m
}

// rowMedians is the median luma of each chip row y0..y1 over the columns
// x0..x1, NaN where a row has no valid pixel (off the chip or the image).
func rowMedians(c *chip, x0, x1 float64, y0, y1 int) []float64 {
	out := make([]float64, y1-y0+1)
	var row []int
	for y := y0; y <= y1; y++ {
		out[y-y0] = math.NaN()
		if y < 0 || y >= chipRows {
			continue
		}
		row = row[:0]
		for x := max(int(math.Round(x0)), 0); x <= min(int(math.Round(x1)), chipSize-1); x++ {
			row = append(row, y*chipSize+x)
		}
		if m, ok := percentileY(c, row, 0.5); ok {
			out[y-y0] = m
		}
	}
	return out
}
