// baseline: the raw dlib pipeline that facekit wraps, timed stage by stage,
// so facekit's per-image cost can be quoted as a ratio to it in the same run.
//
// One image (JPEG bytes read once into memory) goes through
//   decode (libjpeg via dlib) -> HOG detect -> 68 landmarks -> 150x150 chip
//   -> 128-d ResNet descriptor
// for a number of iterations; the median CPU time of each stage is printed. With
// --threads T it instead runs the whole pipeline on T threads, each with
// its own detector and network (dlib networks are not re-entrant), for
// --seconds, and prints images per second (--threads 1 gives the one-core
// figure that the scaling is relative to).
//
// Output is one "key value" pair per line so scripts/bench.sh can parse it.
// Built by bench/baseline/build.sh with g++ and pkg-config dlib-1, never by
// go build.
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

using namespace dlib;

// The ResNet layer structure must match dlib_face_recognition_resnet_model_v1.dat
// exactly for deserialisation to succeed.
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using rsame = add_prev1<B<N, BN, 1, tag1<S>>>;
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using rdown = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<B<N, BN, 2, tag1<S>>>>>>;
template <int N, template <typename> class BN, int stride, typename S>
using blk = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, S>>>>>;
template <int N, typename S> using res = relu<rsame<blk, N, affine, S>>;
template <int N, typename S> using res_d = relu<rdown<blk, N, affine, S>>;
template <typename S> using l0 = res_d<256, S>;
template <typename S> using l1 = res<256, res<256, res_d<256, S>>>;
template <typename S> using l2 = res<128, res<128, res_d<128, S>>>;
template <typename S> using l3 = res<64, res<64, res<64, res_d<64, S>>>>;
template <typename S> using l4 = res<32, res<32, res<32, S>>>;
using net_type = loss_metric<fc_no_bias<128, avg_pool_everything<l0<l1<l2<l3<l4<max_pool<
    3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// cpu_ms is the CPU time of the whole process. Stages are timed in CPU time,
// not wall time: on a shared machine wall time mostly measures the other
// tenants, while CPU time of a single-threaded process is what the stage
// costs (facekit's harness measures the same way).
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct pipeline {
  frontal_face_detector hog = get_frontal_face_detector();
  const shape_predictor *sp;
  net_type net;
};

struct stage_times {
  double decode, detect, landmarks, chip, descriptor;
  size_t faces;
};

// run_once does the whole pipeline on one image, like facekit's
// Analyze(Descriptors: true): every detected face gets landmarks and a
// descriptor, descriptors in one batch.
stage_times run_once(pipeline &p, const std::vector<unsigned char> &jpeg) {
  stage_times t{};
  double t0 = cpu_ms();
  array2d<rgb_pixel> img;
  load_jpeg(img, jpeg.data(), jpeg.size());
  t.decode = cpu_ms() - t0;

  t0 = cpu_ms();
  std::vector<rectangle> dets = p.hog(img);
  t.detect = cpu_ms() - t0;
  t.faces = dets.size();

  t0 = cpu_ms();
  std::vector<full_object_detection> shapes;
  for (auto &d : dets) shapes.push_back((*p.sp)(img, d));
  t.landmarks = cpu_ms() - t0;

  t0 = cpu_ms();
  std::vector<matrix<rgb_pixel>> chips(shapes.size());
  for (size_t i = 0; i < shapes.size(); i++)
    extract_image_chip(img, get_face_chip_details(shapes[i], 150, 0.25), chips[i]);
  t.chip = cpu_ms() - t0;

  t0 = cpu_ms();
  if (!chips.empty()) {
    std::vector<matrix<float, 0, 1>> d = p.net(chips);
    if (d.size() != chips.size()) std::abort();
  }
  t.descriptor = cpu_ms() - t0;
  return t;
}

int usage() {
  std::fprintf(stderr,
               "usage: baseline SHAPE_MODEL RESNET_MODEL IMAGE.jpg [--iters N] [--threads T] [--seconds S]\n");
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 4) return usage();
  std::string shape_path = argv[1], resnet_path = argv[2], image_path = argv[3];
  int iters = 20, threads = 0;  // threads 0: per-stage mode
  double seconds = 10;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else return usage();
  }
  if (iters < 1 || threads < 0) return usage();
  // Matrix products on the calling thread only, as in facekit: parallelism
  // comes from running several pipelines, not from BLAS threads.
  // OpenBLAS has read the variable at load time already, so also set it
  // directly when the BLAS is OpenBLAS (facekit's engine does the same).
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  using set_threads_fn = void (*)(int);
  if (auto set_threads = reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_threads(1);
  try {
    std::ifstream f(image_path, std::ios::binary);
    std::vector<unsigned char> jpeg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (jpeg.empty()) {
      std::fprintf(stderr, "baseline: cannot read %s\n", image_path.c_str());
      return 1;
    }
    shape_predictor sp;
    deserialize(shape_path) >> sp;

    if (threads == 0) {
      pipeline p;
      p.sp = &sp;
      deserialize(resnet_path) >> p.net;
      run_once(p, jpeg);  // warm-up: first-touch allocations, BLAS init
      std::vector<double> dec, det, lm, chip, desc, total;
      size_t faces = 0;
      for (int i = 0; i < iters; i++) {
        stage_times t = run_once(p, jpeg);
        dec.push_back(t.decode);
        det.push_back(t.detect);
        lm.push_back(t.landmarks);
        chip.push_back(t.chip);
        desc.push_back(t.descriptor);
        total.push_back(t.decode + t.detect + t.landmarks + t.chip + t.descriptor);
        faces = t.faces;
      }
      std::printf("faces %zu\niters %d\n", faces, iters);
      std::printf("decode_ms %.3f\ndetect_hog_ms %.3f\nlandmarks_ms %.3f\nchip_ms %.3f\ndescriptor_ms %.3f\n",
                  median(dec), median(det), median(lm), median(chip), median(desc));
      std::printf("total_ms %.3f\n", median(total));
      return 0;
    }

    // Throughput: T threads, each with its own pipeline, for a fixed time.
    std::vector<pipeline> ps(threads);
    for (auto &p : ps) {
      p.sp = &sp;
      deserialize(resnet_path) >> p.net;
      run_once(p, jpeg);
    }
    std::atomic<long> done{0};
    std::atomic<bool> stop{false};
    auto t0 = clock_type::now();
    double c0 = cpu_ms();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; i++)
      ts.emplace_back([&, i] {
        while (!stop.load()) {
          run_once(ps[i], jpeg);
          done++;
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto &t : ts) t.join();
    double el = ms_since(t0) / 1000, cpu = cpu_ms() - c0;
    std::printf("threads %d\nimages %ld\nseconds %.3f\nimages_per_s %.3f\ncpu_ms_per_image %.3f\n", threads,
                done.load(), el, done.load() / el, cpu / done.load());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "baseline: %s\n", e.what());
    return 1;
  }
}
