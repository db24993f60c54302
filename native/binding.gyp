{
  "targets": [
    {
      "target_name": "sfc_kernels",
      "sources": ["src/kernels.c"],
      "cflags_c": ["-O3", "-std=gnu11", "-Wall", "-Wextra", "-pthread"],
      "conditions": [["OS!='win'", { "libraries": ["-pthread", "-lm"] }]],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=gnu11"] },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2 } }
    }
  ]
}
