// RasterSource: metadata, handle pool and read paths of one raster file. Any thread.
#include "raster/raster_source.h"

#include <gdal_priv.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/copy_kernel.h"
#include "core/errors.h"
#include "raster/cog_detect.h"
#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"
#include "raster/open_dataset.h"
#include "raster/path_checks.h"
#include "raster/source_limits.h"

namespace nds {

namespace {

bool StatIdentity(const std::string& path, FileIdentity* id) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  id->size = static_cast<int64_t>(st.st_size);
  id->mtimeNs = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return true;
}

bool SameIdentity(const FileIdentity& a, const FileIdentity& b) { return !(a < b) && !(b < a); }

}  // namespace

RasterSource::RasterSource(std::string path, int maxHandles, const RasterEnv& env)
    : path_(std::move(path)),
      tiles_(env.tiles),
      pixelLimit_(env.pixelLimit),
      pool_(env.handles, maxHandles, [this] { return OpenHandle(); }) {
  EnsureGdal();
  CheckSourceFile(path_);
  haveIdentity_ = !IsVirtualPath(path_) && StatIdentity(path_, &identity_);
  fileId_ = haveIdentity_ ? tiles_->FileId(identity_) : tiles_->UniqueFileId();
  HandlePool::Lease first = pool_.Acquire();  // runs OpenHandle, which fills meta_
}

RasterSource::~RasterSource() { pool_.Close(); }

void RasterSource::Close() {
  closed_.store(true);
  pool_.Close();
}

RasterHandle* RasterSource::OpenHandle() {
  if (metaReady_ && haveIdentity_) {
    FileIdentity now{};
    if (!StatIdentity(path_, &now)) ThrowErrno("stat", path_, errno);
    if (!SameIdentity(now, identity_)) {
      throw CodedError("ERR_SOURCE_CHANGED", "'" + path_ + "' changed on disk since it was opened; open it again",
                       path_);
    }
  }
  std::unique_ptr<RasterHandle> h(new RasterHandle());
  if (!metaReady_) {  // the first handle, opened by the constructor: read the metadata
    int64_t fileBytes = 0;
    h->ds = OpenDataset(&fileBytes);
    static_cast<SourceFacts&>(meta_) = ReadSourceFacts(h->ds, path_);
    CheckDecodeCost(h->ds, path_, meta_, fileBytes, pixelLimit_);
    meta_.isCog = IsCogDataset(h->ds, path_);
    const char* entry = GDALGetMetadataItem(h->ds, "NDSAMPLER_ENTRY", nullptr);
    const char* src = GDALGetMetadataItem(h->ds, "NDSAMPLER_SRC", nullptr);
    meta_.identEntry = entry != nullptr ? entry : "";
    meta_.identSrc = src != nullptr ? src : "";
    if (meta_.tiled && !meta_.palette) {
      h->tiff = TiffTileReader::Open(
          path_, TiffExpect{meta_.W, meta_.H, meta_.blockW, meta_.blockH, meta_.bands, meta_.dtype});
      h->tiffTried = true;
      meta_.libtiff = h->tiff != nullptr;
    }
    metaReady_ = true;
  }
  return h.release();
}

GDALDatasetH RasterSource::OpenDataset(int64_t* fileBytes) {
  GDALDatasetH ds = OpenForRead(path_, fileBytes);
  if (metaReady_ && (GDALGetRasterXSize(ds) != meta_.W || GDALGetRasterYSize(ds) != meta_.H ||
                     GDALGetRasterCount(ds) != meta_.bands)) {
    GDALClose(ds);
    throw CodedError("ERR_SOURCE_CHANGED", "'" + path_ + "' changed on disk since it was opened; open it again", path_);
  }
  return ds;
}

GDALDatasetH RasterSource::Dataset(HandlePool::Lease& lease) {
  RasterHandle* h = lease.get();
  if (h->ds == nullptr) h->ds = OpenDataset();
  return h->ds;
}

TiffTileReader* RasterSource::Tiff(HandlePool::Lease& lease) {
  RasterHandle* h = lease.get();
  if (!h->tiffTried) {
    h->tiffTried = true;
    h->tiff =
        TiffTileReader::Open(path_, TiffExpect{meta_.W, meta_.H, meta_.blockW, meta_.blockH, meta_.bands, meta_.dtype});
  }
  return h->tiff.get();
}

void RasterSource::Read(const Window& win, const Destination& dst) {
  if (closed_.load()) throw CodedError("ERR_CLOSED", "reader for '" + path_ + "' is closed", path_);
  if (win.h() == 0 || win.w() == 0 || win.c() == 0 || dst.outH == 0 || dst.outW == 0) return;
  const bool scaled = dst.outH != win.h() || dst.outW != win.w();
  if (meta_.tiled && !scaled) {
    ReadTiled(win, dst);
  } else {
    ReadDirect(win, dst);
  }
}

std::vector<std::pair<int, int>> RasterSource::MissingTiles(const Window& win) {
  std::vector<std::pair<int, int>> out;
  if (!meta_.tiled || win.h() <= 0 || win.w() <= 0) return out;
  for (int64_t ty = win.y0 / meta_.blockH; ty <= (win.y1 - 1) / meta_.blockH; ++ty) {
    for (int64_t tx = win.x0 / meta_.blockW; tx <= (win.x1 - 1) / meta_.blockW; ++tx) {
      if (!tiles_->Has(TileKey{fileId_, 0, static_cast<int32_t>(tx), static_cast<int32_t>(ty)})) {
        out.emplace_back(static_cast<int>(tx), static_cast<int>(ty));
      }
    }
  }
  return out;
}

void RasterSource::ReadDirect(const Window& win, const Destination& dst) {
  if (win.h() == 0 || win.w() == 0 || win.c() == 0 || dst.outH == 0 || dst.outW == 0) return;
  const int is = ItemSize(meta_.dtype);
  HandlePool::Lease lease = pool_.Acquire();
  RasterIO(lease, win.x0, win.y0, win.w(), win.h(), static_cast<int>(win.c0), static_cast<int>(win.c()),
           dst.data + dst.offset * is, dst.outW, dst.outH, dst.sx * is, dst.sy * is, dst.sc * is);
}

void RasterSource::ReadTiled(const Window& win, const Destination& dst) {
  const int is = ItemSize(meta_.dtype);
  const int64_t bw = meta_.blockW, bh = meta_.blockH, C = meta_.C;
  const int64_t tx0 = win.x0 / bw, tx1 = (win.x1 - 1) / bw;
  const int64_t ty0 = win.y0 / bh, ty1 = (win.y1 - 1) / bh;
  uint8_t* base = dst.data + dst.offset * is;
  const int64_t dsy = dst.sy * is, dsx = dst.sx * is, dsc = dst.sc * is;
  if (prefetch_) {
    const std::vector<std::pair<int, int>> missing = MissingTiles(win);
    if (missing.size() > 1) prefetch_(missing);
  }
  HandlePool::Lease lease;  // leased on the first miss only
  // With the tile cache off nothing decoded is kept, so a miss decodes only what this crop needs
  // when the libtiff reader can (ZSTD, 8-bit): down to the crop's last row, and the predictor
  // only over its rows and the columns left of its right edge.
  const bool rowsOnly = meta_.libtiff && tiles_->Budget() == 0;
  for (int64_t ty = ty0; ty <= ty1; ++ty) {
    for (int64_t tx = tx0; tx <= tx1; ++tx) {
      const TileKey key{fileId_, 0, static_cast<int32_t>(tx), static_cast<int32_t>(ty)};
      std::shared_ptr<const Tile> tile = tiles_->Get(key);
      const int64_t ty0px = ty * bh, tx0px = tx * bw;
      if (!tile) {
        if (!lease) lease = pool_.Acquire();
        if (rowsOnly) {
          TiffTileReader* t = Tiff(lease);
          if (t != nullptr && t->CanDecodeRows()) {
            const int64_t ya = std::max(win.y0, ty0px), yb = std::min(win.y1, ty0px + bh);
            const int64_t xa = std::max(win.x0, tx0px), xb = std::min(win.x1, tx0px + bw);
            thread_local std::vector<uint8_t> part;
            part.resize(static_cast<size_t>((yb - ty0px) * bw * C * is));
            bool ok;
            try {
              ok = t->DecodeRows(static_cast<int>(tx), static_cast<int>(ty), static_cast<int>(ya - ty0px),
                                 static_cast<int>(yb - ty0px), static_cast<int>(xb - tx0px), part.data());
            } catch (...) {
              lease.Discard();
              throw;
            }
            if (ok) {
              const SrcLayout src{part.data(), bw * C * is, C * is, is, is, false};
              CopyWindow(src, ya - ty0px, xa - tx0px, win.c0, yb - ya, xb - xa, win.c(),
                         base + (ya - win.y0) * dsy + (xa - win.x0) * dsx, dsy, dsx, dsc);
              continue;
            }
          }
        }
        tile = DecodeTile(lease, static_cast<int>(tx), static_cast<int>(ty));
        tiles_->Put(key, tile);
      }
      const int64_t ya = std::max(win.y0, ty0px), yb = std::min(win.y1, ty0px + tile->h);
      const int64_t xa = std::max(win.x0, tx0px), xb = std::min(win.x1, tx0px + tile->w);
      const SrcLayout src{tile->data.get(), tile->w * C * is, C * is, is, is, false};
      CopyWindow(src, ya - ty0px, xa - tx0px, win.c0, yb - ya, xb - xa, win.c(),
                 base + (ya - win.y0) * dsy + (xa - win.x0) * dsx, dsy, dsx, dsc);
    }
  }
}

std::shared_ptr<const Tile> RasterSource::DecodeTile(HandlePool::Lease& lease, int tx, int ty) {
  const int is = ItemSize(meta_.dtype);
  const int64_t x0 = static_cast<int64_t>(tx) * meta_.blockW, y0 = static_cast<int64_t>(ty) * meta_.blockH;
  const int64_t w = std::min<int64_t>(meta_.blockW, meta_.W - x0), h = std::min<int64_t>(meta_.blockH, meta_.H - y0);
  auto tile = std::make_shared<Tile>();
  tile->h = static_cast<int>(h);
  tile->w = static_cast<int>(w);
  tile->bytes = static_cast<size_t>(h * w * meta_.C * is);
  tile->data.reset(new uint8_t[tile->bytes]);
  if (meta_.libtiff) {
    TiffTileReader* t = Tiff(lease);
    if (t != nullptr) {
      try {
        if (t->Decode(tx, ty, tile->h, tile->w, tile->data.get())) return tile;
      } catch (...) {
        lease.Discard();
        throw;
      }
    }
  }
  RasterIO(lease, x0, y0, w, h, 0, static_cast<int>(meta_.C), tile->data.get(), w, h, meta_.C * is, w * meta_.C * is,
           is);
  // The decoded tile now lives in our cache; drop GDAL's block-cache copy of it.
  GDALDatasetH ds = Dataset(lease);
  GdalErrorScope scope;
  for (int b = 1; b <= meta_.bands; ++b) {
    GDALRasterBand::FromHandle(GDALGetRasterBand(ds, b))->FlushBlock(tx, ty, FALSE);
  }
  return tile;
}

void RasterSource::RasterIO(HandlePool::Lease& lease, int64_t x0, int64_t y0, int64_t w, int64_t h, int c0, int nc,
                            uint8_t* buf, int64_t bufW, int64_t bufH, int64_t pixelSpace, int64_t lineSpace,
                            int64_t bandSpace) {
  GDALDatasetH ds = Dataset(lease);
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.eResampleAlg = GRIORA_NearestNeighbour;
  GdalErrorScope scope;
  CPLErr err;
  if (meta_.palette) {
    std::vector<uint16_t> idx(static_cast<size_t>(bufW * bufH));
    err = GDALRasterIOEx(GDALGetRasterBand(ds, 1), GF_Read, static_cast<int>(x0), static_cast<int>(y0),
                         static_cast<int>(w), static_cast<int>(h), idx.data(), static_cast<int>(bufW),
                         static_cast<int>(bufH), GDT_UInt16, 2, 2 * bufW, &extra);
    if (err == CE_None && !scope.failed()) {
      const int64_t C = meta_.C;
      const uint8_t* lut = meta_.lut.data();
      const unsigned n = static_cast<unsigned>(meta_.lutEntries);
      for (int64_t y = 0; y < bufH; ++y) {
        const uint16_t* row = idx.data() + y * bufW;
        uint8_t* out = buf + y * lineSpace;
        for (int64_t x = 0; x < bufW; ++x) {
          const unsigned i = row[x];
          uint8_t* px = out + x * pixelSpace;
          for (int k = 0; k < nc; ++k) px[k * bandSpace] = i < n ? lut[i * C + c0 + k] : 0;
        }
      }
    }
  } else {
    std::vector<int> bands(static_cast<size_t>(nc));
    for (int k = 0; k < nc; ++k) bands[k] = c0 + k + 1;
    err = GDALDatasetRasterIOEx(ds, GF_Read, static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(w),
                                static_cast<int>(h), buf, static_cast<int>(bufW), static_cast<int>(bufH), meta_.gdt, nc,
                                bands.data(), pixelSpace, lineSpace, bandSpace, &extra);
  }
  if (err != CE_None || scope.failed()) {
    lease.Discard();
    if (!scope.failed()) scope.Fail(CPLE_FileIO, "RasterIO failed");
    scope.Throw("ERR_GDAL_READ", "cannot read", path_);
  }
}

}  // namespace nds
