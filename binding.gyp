{
  "comment": "Alternative build with node-gyp for users without cmake: `npx node-gyp rebuild`. package.json sets gypfile:false, so npm never runs it behind cmake-js's back. Same sources, defines and flags as CMakeLists.txt: every .cc under native/ (recursively) except the fuzz targets of native/fuzz/, includes written from native/ (\"core/errors.h\").",
  "targets": [
    {
      "target_name": "ndsampler",
      "sources": [ "<!@(node -p \"require('fs').readdirSync('native', { recursive: true }).filter(f => f.endsWith('.cc') && !f.startsWith('fuzz/')).sort().map(f => 'native/' + f).join(' ')\")" ],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('xxhash-addon/package.json')), 'xxHash')\")",
        "<!@(gdal-config --cflags | sed 's/-I//g')"
      ],
      "libraries": [ "<!@(gdal-config --libs)", "<!@(pkg-config --libs libtiff-4)" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NDS_HAVE_LIBTIFF" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden" ],
      "cflags!": [ "-fno-exceptions" ]
    }
  ]
}
