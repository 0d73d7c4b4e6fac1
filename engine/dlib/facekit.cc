// C++ side of the cgo boundary. See facekit.h for the contract.
#include "facekit.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

// A read-only view of a Go-owned packed RGB buffer, so that detection and
// chip extraction read the pixels in place instead of copying them.
struct go_rgb_view {
  const uint8_t *pix;
  long nr, nc, stride;
};

namespace dlib {
template <> struct image_traits<go_rgb_view> { typedef rgb_pixel pixel_type; };
}  // namespace dlib

// dlib's generic image interface, found by argument-dependent lookup.
inline long num_rows(const go_rgb_view &v) { return v.nr; }
inline long num_columns(const go_rgb_view &v) { return v.nc; }
inline const void *image_data(const go_rgb_view &v) { return v.pix; }
inline void *image_data(go_rgb_view &v) { return const_cast<uint8_t *>(v.pix); }
inline long width_step(const go_rgb_view &v) { return v.stride; }

namespace {

using namespace dlib;

// dlib's 29-layer ResNet descriptor network, as defined for
// dlib_face_recognition_resnet_model_v1.dat (the layer structure must match
// the serialized model exactly).
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using res_same = add_prev1<B<N, BN, 1, tag1<S>>>;
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using res_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<B<N, BN, 2, tag1<S>>>>>>;
template <int N, template <typename> class BN, int stride, typename S>
using conv_block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, S>>>>>;
template <int N, typename S> using ares = relu<res_same<conv_block, N, affine, S>>;
template <int N, typename S> using ares_down = relu<res_down<conv_block, N, affine, S>>;
template <typename S> using level0 = ares_down<256, S>;
template <typename S> using level1 = ares<256, ares<256, ares_down<256, S>>>;
template <typename S> using level2 = ares<128, ares<128, ares_down<128, S>>>;
template <typename S> using level3 = ares<64, ares<64, ares<64, ares_down<64, S>>>>;
template <typename S> using level4 = ares<32, ares<32, ares<32, S>>>;
using resnet_type = loss_metric<fc_no_bias<
    128, avg_pool_everything<level0<level1<level2<level3<level4<max_pool<
             3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

// dlib's MMOD CNN face detector, as defined for mmod_human_face_detector.dat.
template <long F, typename S> using con5d = con<F, 5, 5, 2, 2, S>;
template <long F, typename S> using con5 = con<F, 5, 5, 1, 1, S>;
template <typename S>
using downsampler = relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, S>>>>>>>>>;
template <typename S> using rcon5 = relu<affine<con5<45, S>>>;
using mmod_type =
    loss_mmod<con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;

void set_status(fk_status *st, int code, const char *msg) {
  if (!st) return;
  st->code = code;
  std::snprintf(st->msg, sizeof(st->msg), "%s", msg ? msg : "");
}

// Runs f, turning every exception into a status code.
template <typename F> int guarded(fk_status *st, F &&f) {
  try {
    set_status(st, FK_OK, "");
    return f();
  } catch (const std::bad_alloc &) {
    set_status(st, FK_ERR_NOMEM, "out of memory");
  } catch (const dlib::serialization_error &e) {
    set_status(st, FK_ERR_MODEL, e.what());
  } catch (const std::exception &e) {
    set_status(st, FK_ERR_INTERNAL, e.what());
  } catch (...) {
    set_status(st, FK_ERR_INTERNAL, "unknown C++ exception");
  }
  return st ? st->code : FK_ERR_INTERNAL;
}

go_rgb_view view_of(const fk_image *img) {
  return go_rgb_view{img->pix, img->height, img->width, img->stride};
}

bool valid_image(const fk_image *img) {
  return img && img->pix && img->width > 0 && img->height > 0 && img->stride >= img->width * 3;
}

full_object_detection shape_from(const long *pts, const rectangle &box) {
  std::vector<point> parts(68);
  for (int i = 0; i < 68; i++) parts[i] = point(pts[2 * i], pts[2 * i + 1]);
  return full_object_detection(box, parts);
}

rectangle bounds_of(const long *pts) {
  long l = pts[0], r = pts[0], t = pts[1], b = pts[1];
  for (int i = 1; i < 68; i++) {
    l = std::min(l, pts[2 * i]);
    r = std::max(r, pts[2 * i]);
    t = std::min(t, pts[2 * i + 1]);
    b = std::max(b, pts[2 * i + 1]);
  }
  return rectangle(l, t, r, b);
}

// Maps a box found on the upsampled copy back to the input image the way
// dlib's own Python binding (and so face_recognition) does: first undo the
// final bounded resize, if any, then pyramid_down<2>::rect_down over the
// pyramid levels, rounded to whole pixels.
rectangle map_back(const rectangle &r, int levels, double sx, double sy) {
  drectangle d(r.left() * sx, r.top() * sy, r.right() * sx, r.bottom() * sy);
  pyramid_down<2> pyr;
  return rectangle(pyr.rect_down(d, levels));
}

// Upsamples img in place: levels pyramid_up steps (dlib's, the same as its
// HOG detector's own upsampling), then, when out_w > 0, a bilinear resize to
// out_w x out_h (the bounded last step facekit uses instead of a doubling
// that would exceed its size bound). sx, sy receive the factors that map
// coordinates of the resized image back to the pyramid level.
template <typename image_type>
void upsample_image(image_type &img, int levels, long out_w, long out_h, double &sx, double &sy) {
  sx = sy = 1;
  for (int i = 0; i < levels; i++) pyramid_up(img);
  if (out_w > 0 && out_h > 0) {
    image_type big;
    big.set_size(out_h, out_w);
    resize_image(img, big, interpolate_bilinear());
    // resize_image maps the corner pixels onto each other.
    sx = (img.nc() - 1) / double(std::max<long>(out_w - 1, 1));
    sy = (img.nr() - 1) / double(std::max<long>(out_h - 1, 1));
    swap(img, big);
  }
}

}  // namespace

struct fk_models {
  shape_predictor sp;
};

struct fk_instance {
  fk_models *models;
  frontal_face_detector hog;
  resnet_type resnet;
  std::unique_ptr<mmod_type> mmod;
  dlib::rand rnd;
};

extern "C" {

void fk_init_threads(void) {
  // Each pool instance should run its matrix products on the calling
  // thread only: parallelism comes from the pool. The variable covers BLAS
  // libraries that read it late, but OpenBLAS reads it in its load-time
  // constructor, before any Go init runs, and has by then started one
  // helper thread per core; those helpers spin while waiting and, with a
  // pool per core, oversubscribe the CPU. So when the BLAS is OpenBLAS, set
  // its thread count directly (looked up at run time: Debian may provide
  // libblas.so.3 by the reference BLAS instead).
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  using set_threads_fn = void (*)(int);
  if (auto set_threads = reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_threads(1);
}

fk_models *fk_models_load(const char *shape_path, fk_status *st) {
  fk_models *out = nullptr;
  guarded(st, [&] {
    if (!shape_path) {
      set_status(st, FK_ERR_ARG, "shape predictor path is null");
      return FK_ERR_ARG;
    }
    std::unique_ptr<fk_models> m(new fk_models);
    deserialize(shape_path) >> m->sp;
    if (m->sp.num_parts() != 68) {
      set_status(st, FK_ERR_MODEL, "shape predictor does not have 68 parts");
      return FK_ERR_MODEL;
    }
    out = m.release();
    return FK_OK;
  });
  return out;
}

void fk_models_free(fk_models *m) { delete m; }

fk_instance *fk_instance_new(fk_models *m, const char *resnet_path, const char *mmod_path, fk_status *st) {
  fk_instance *out = nullptr;
  guarded(st, [&] {
    if (!m || !resnet_path) {
      set_status(st, FK_ERR_ARG, "models or resnet path is null");
      return FK_ERR_ARG;
    }
    std::unique_ptr<fk_instance> in(new fk_instance);
    in->models = m;
    in->hog = get_frontal_face_detector();
    deserialize(resnet_path) >> in->resnet;
    if (mmod_path && *mmod_path) {
      in->mmod.reset(new mmod_type);
      deserialize(mmod_path) >> *in->mmod;
    }
    out = in.release();
    return FK_OK;
  });
  return out;
}

void fk_instance_free(fk_instance *in) { delete in; }

int fk_detect(fk_instance *in, const fk_image *img, int kind, int levels, long up_w, long up_h, fk_rect **out,
              int *n, fk_status *st) {
  return guarded(st, [&] {
    if (!in || !valid_image(img) || !out || !n || levels < 0 || levels > 3 || up_w < 0 || up_h < 0 ||
        up_w > 20000 || up_h > 20000) {
      set_status(st, FK_ERR_ARG, "bad detect arguments");
      return FK_ERR_ARG;
    }
    *out = nullptr;
    *n = 0;
    go_rgb_view v = view_of(img);
    std::vector<rect_detection> dets;
    double sx = 1, sy = 1;
    const bool up = levels > 0 || (up_w > 0 && up_h > 0);
    if (kind == 1) {
      if (!in->mmod) {
        set_status(st, FK_ERR_MODEL, "CNN detector model not loaded");
        return FK_ERR_MODEL;
      }
      matrix<rgb_pixel> m;
      assign_image(m, v);
      if (up) upsample_image(m, levels, up_w, up_h, sx, sy);
      for (auto &d : (*in->mmod)(m)) dets.push_back(rect_detection{d.detection_confidence, 0, d.rect});
    } else if (!up) {
      in->hog(v, dets, 0.0);
    } else {
      array2d<rgb_pixel> img2;
      assign_image(img2, v);
      upsample_image(img2, levels, up_w, up_h, sx, sy);
      in->hog(img2, dets, 0.0);
    }
    if (dets.empty()) return FK_OK;
    fk_rect *r = static_cast<fk_rect *>(std::malloc(sizeof(fk_rect) * dets.size()));
    if (!r) throw std::bad_alloc();
    for (size_t i = 0; i < dets.size(); i++) {
      const rectangle b = up ? map_back(dets[i].rect, levels, sx, sy) : dets[i].rect;
      r[i] = fk_rect{b.left(), b.top(), b.right(), b.bottom(), dets[i].detection_confidence};
    }
    *out = r;
    *n = int(dets.size());
    return FK_OK;
  });
}

int fk_landmarks(fk_instance *in, const fk_image *img, const fk_rect *boxes, int n, long *pts, fk_status *st) {
  return guarded(st, [&] {
    if (!in || !valid_image(img) || n < 0 || (n > 0 && (!boxes || !pts))) {
      set_status(st, FK_ERR_ARG, "bad landmark arguments");
      return FK_ERR_ARG;
    }
    go_rgb_view v = view_of(img);
    for (int i = 0; i < n; i++) {
      rectangle box(boxes[i].left, boxes[i].top, boxes[i].right, boxes[i].bottom);
      full_object_detection s = in->models->sp(v, box);
      for (unsigned long p = 0; p < 68; p++) {
        pts[(i * 68 + p) * 2] = s.part(p).x();
        pts[(i * 68 + p) * 2 + 1] = s.part(p).y();
      }
    }
    return FK_OK;
  });
}

int fk_describe(fk_instance *in, const fk_image *img, const long *pts, int n, int jitter, float *out, fk_status *st) {
  return guarded(st, [&] {
    if (!in || !valid_image(img) || n < 0 || (n > 0 && (!pts || !out)) || jitter < 0 || jitter > 100) {
      set_status(st, FK_ERR_ARG, "bad describe arguments");
      return FK_ERR_ARG;
    }
    go_rgb_view v = view_of(img);
    std::vector<matrix<rgb_pixel>> chips(n);
    for (int i = 0; i < n; i++) {
      const long *p = pts + i * 68 * 2;
      auto shape = shape_from(p, bounds_of(p));
      extract_image_chip(v, get_face_chip_details(shape, 150, 0.25), chips[i]);
    }
    if (jitter == 0) {
      // One batched forward pass for all faces of the image.
      std::vector<matrix<float, 0, 1>> d = in->resnet(chips);
      for (int i = 0; i < n; i++)
        for (int k = 0; k < 128; k++) out[i * 128 + k] = d[i](k);
      return FK_OK;
    }
    for (int i = 0; i < n; i++) {
      std::vector<matrix<rgb_pixel>> crops;
      crops.reserve(jitter);
      for (int j = 0; j < jitter; j++) crops.push_back(jitter_image(chips[i], in->rnd));
      matrix<float, 0, 1> mean = dlib::mean(mat(in->resnet(crops)));
      for (int k = 0; k < 128; k++) out[i * 128 + k] = mean(k);
    }
    return FK_OK;
  });
}

int fk_chip(const fk_image *img, const long *pts, int size, double padding, uint8_t *out, fk_status *st) {
  return guarded(st, [&] {
    if (!valid_image(img) || !pts || !out || size < 8 || size > 1024 || padding < 0 || padding > 2) {
      set_status(st, FK_ERR_ARG, "bad chip arguments");
      return FK_ERR_ARG;
    }
    go_rgb_view v = view_of(img);
    matrix<rgb_pixel> chip;
    auto shape = shape_from(pts, bounds_of(pts));
    extract_image_chip(v, get_face_chip_details(shape, size, padding), chip);
    for (long r = 0; r < chip.nr(); r++)
      for (long c = 0; c < chip.nc(); c++) {
        uint8_t *o = out + (r * size + c) * 3;
        o[0] = chip(r, c).red;
        o[1] = chip(r, c).green;
        o[2] = chip(r, c).blue;
      }
    return FK_OK;
  });
}

void fk_free(void *p) { std::free(p); }

}  // extern "C"
