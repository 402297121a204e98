// Registration functions, one per native area; each adds its classes and functions to exports.
#pragma once
#include <napi.h>

namespace nds {
void InitNpy(Napi::Env env, Napi::Object exports);     // npy_reader.cc: NpyReader, writeNpy
void InitRaster(Napi::Env env, Napi::Object exports);  // raster_reader.cc / cog_writer.cc
}  // namespace nds
