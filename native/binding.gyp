# Builds native/build/Release/ebm_native.node from EVERY native/src/*.cc (listed at configure time, so a new
# kernel file needs no edit here). No external libraries: g++ and the Node headers only.
{
  "targets": [
    {
      "target_name": "ebm_native",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('src').filter(f => f.endsWith('.cc')).sort().map(f => 'src/' + f).join(' ')\")"
      ],
      "include_dirs": ["src"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-Wall", "-Wno-unused-function"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-march=native"]
      }
    }
  ]
}
