// CogCompressions: read from the COG driver's creation-option list.
#include "raster/cog_codecs.h"

#include <cpl_minixml.h>
#include <cpl_string.h>
#include <gdal.h>

#include "raster/gdal_error_scope.h"
#include "raster/gdal_setup.h"

namespace nds {

std::vector<std::string> CogCompressions() {
  EnsureGdal();
  std::vector<std::string> out;
  GDALDriverH drv = GDALGetDriverByName("COG");
  if (drv == nullptr) return out;
  const char* xml = GDALGetMetadataItem(drv, GDAL_DMD_CREATIONOPTIONLIST, nullptr);
  if (xml == nullptr) return out;
  GdalErrorScope scope;
  CPLXMLNode* root = CPLParseXMLString(xml);
  if (root == nullptr) return out;
  for (CPLXMLNode* opt = CPLGetXMLNode(root, "=CreationOptionList")->psChild; opt != nullptr; opt = opt->psNext) {
    if (opt->eType != CXT_Element || !EQUAL(CPLGetXMLValue(opt, "name", ""), "COMPRESS")) continue;
    for (CPLXMLNode* v = opt->psChild; v != nullptr; v = v->psNext) {
      if (v->eType == CXT_Element && EQUAL(v->pszValue, "Value")) out.emplace_back(CPLGetXMLValue(v, "", ""));
    }
  }
  CPLDestroyXMLNode(root);
  return out;
}

Napi::Value CogCompressionsJs(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = CogCompressions();
  Napi::Array arr = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) arr.Set(i, names[i]);
  return arr;
}

}  // namespace nds
