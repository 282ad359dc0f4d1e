"""The pretrained backbones DeepCanvas offers: every `keras.applications` architecture, as data.

Each entry says what Keras itself does for that application, read from the installed Keras
(3.15) and checked against it by `tests/backend/test_pretrained_catalog.py`:
  * `weights_file`, `origin`, `file_hash`: what the application passes to Keras' `get_file`
    for its ImageNet weights without the classifier (`include_top=False`). MobileNet and
    MobileNetV2 publish no hash; their file also depends on the input size (`weights_file`).
  * `preprocessing`: what its `preprocess_input` (or its built-in preprocessing layers) does
    to raw 0-255 pixels, as a recipe of `backend.exchange.pretrained.preprocessing_nodes`:
    "tf" scales to [-1, 1]; "torch" scales to [0, 1] then normalizes by ImageNet's mean and
    standard deviation; "caffe" flips RGB to BGR and subtracts ImageNet's mean; "tf128" is
    EfficientNetV2 S/M/L's x / 128 - 1; "inside" means the architecture normalizes by
    itself (EfficientNet B0-B7, whose Normalization layer holds ImageNet's statistics).
  * `own_preprocessing`: the application takes `include_preprocessing` (ConvNeXt,
    EfficientNetV2, MobileNetV3): DeepCanvas builds it without, and puts the same
    preprocessing before the block as a layer of its own, where it can be seen.
  * `params`: the parameter count without the top, which sizes the download (4 bytes each).
  * `min_size`: the smallest image side the application accepts.

Nothing here imports Keras, so the palette and the Start gallery list them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_GCS_OLD = "https://storage.googleapis.com/keras-applications/"


@dataclass(frozen=True)
class Backbone:
    name: str
    """The `keras.applications` function (`MobileNetV2`)."""
    family: str
    """The `keras.applications` module that defines it (`mobilenet_v2`)."""
    preprocessing: str
    weights_file: str
    origin: str
    file_hash: str | None
    params: int
    min_size: int = 32
    own_preprocessing: bool = False
    default_size: int = 224

    @property
    def download_bytes(self) -> int:
        """About how large the weights file is: float32 parameters plus HDF5's few KiB."""
        return 4 * self.params

    @property
    def node_name(self) -> str:
        """The block's name on the canvas and in the weights file's layer paths."""
        return self.name.lower()

    def weights_file_for(self, size: int | None) -> str:
        """The file Keras picks for a square input of `size` pixels: MobileNet V1/V2 have one
        per training resolution and fall back to the 224 one, like Keras."""
        if self.family == "mobilenet_v2" and size in (96, 128, 160, 192, 224):
            return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5"
        if self.family == "mobilenet" and size in (128, 160, 192, 224):
            return f"mobilenet_1_0_{size}_tf_no_top.h5"
        return self.weights_file

    def origin_for(self, size: int | None) -> str:
        return self.origin.rsplit("/", 1)[0] + "/" + self.weights_file_for(size)


def _entry(
    name: str,
    family: str,
    preprocessing: str,
    path: str,
    file_hash: str | None,
    params: int,
    **extra: int | bool,
) -> Backbone:
    base = _GCS_OLD if family == "efficientnet" else _GCS
    origin = base + path
    if name.startswith("NASNet"):  # the URL's file name differs from the cached one
        weights_file = f"nasnet_{name[6:].lower()}_no_top.h5"
    else:
        weights_file = path.rsplit("/", 1)[-1]
    own = family in ("convnext", "efficientnet_v2", "mobilenet_v3")
    return Backbone(
        name, family, preprocessing, weights_file, origin, file_hash, params,
        own_preprocessing=own, **extra,
    )  # fmt: skip


_TF_KERNELS = "_weights_tf_dim_ordering_tf_kernels_notop.h5"
_CONVNEXT = {
    "Tiny": ("d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1", 27820128),
    "Small": ("6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab", 49454688),
    "Base": ("40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45", 87566464),
    "Large": ("96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd", 196230336),
    "XLarge": ("de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05", 348147968),
}
_DENSENET = {
    121: ("30ee3e1110167f948a6b9946edeeb738", 7037504),
    169: ("b8c4d4c20dd625c148057b9ff1c1176b", 12642880),
    201: ("c13680b51ded0fb44dff2d8f86ac8bb1", 18321984),
}
_EFFICIENTNET = {
    0: ("50bc09e76180e00e4465e1a485ddc09d", 4049571),
    1: ("74c4e6b3e1f6a1eea24c589628592432", 6575239),
    2: ("111f8e2ac8aa800a7a99e3239f7bfb39", 7768569),
    3: ("af6d107764bb5b1abb91932881670226", 10783535),
    4: ("ebc24e6d6c33eaebbd558eafbeedf1ba", 17673823),
    5: ("38879255a25d3c92d5e44e04ae6cec6f", 28513527),
    6: ("9ecce42647a20130c1f39a5d4cb75743", 40960143),
    7: ("cbcfe4450ddf6f3ad90b1b398090fe4a", 64097687),
}
_EFFICIENTNET_V2 = {
    "B0": ("893217f2bb855e2983157299931e43ff", 5919312),
    "B1": ("0e80663031ca32d657f9caa404b6ec37", 6931124),
    "B2": ("1dfe2e7a5d45b6632553a8961ea609eb", 8769374),
    "B3": ("f6abf7b5849ac99a89b50dd3fd532856", 12930622),
    "S": ("af0682fb74e8c54910f2d4393339c070", 20331360),
    "M": ("1b8dc055df72dde80d614482840fe342", 53150388),
    "L": ("b0b66b5c863aef5b46e8608fe1711615", 117746848),
}
_RESNET = {
    "ResNet50": ("4d473c1dd8becc155b73f8504c6f6626", 23587712),
    "ResNet101": ("88cf7a10940856eca736dc7b7e228a21", 42658176),
    "ResNet152": ("ee4c566cf9a93f14d82f913c2dc6dd0c", 58370944),
    "ResNet50V2": ("fac2f116257151a9d068a22e544a4917", 23564800),
    "ResNet101V2": ("c0ed64b8031c3730f411d2eb4eea35b5", 42626560),
    "ResNet152V2": ("ed17cf2e0169df9d443503ef94b23b33", 58331648),
}

_ALL: list[Backbone] = [
    _entry("MobileNetV2", "mobilenet_v2", "tf",
           "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
           None, 2257984),
    _entry("MobileNetV3Small", "mobilenet_v3", "tf",
           "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
           "d3e8ec802a04aa4fc771ee12a9a9b836", 939120),
    _entry("MobileNetV3Large", "mobilenet_v3", "tf",
           "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
           "07fb09a5933dd0c8eaafa16978110389", 2996352),
    _entry("MobileNet", "mobilenet", "tf", "mobilenet/mobilenet_1_0_224_tf_no_top.h5",
           None, 3228864),
    *(_entry(f"EfficientNetB{k}", "efficientnet", "inside", f"efficientnetb{k}_notop.h5",
             h, p) for k, (h, p) in _EFFICIENTNET.items()),
    *(_entry(f"EfficientNetV2{k}", "efficientnet_v2", "torch" if k[0] == "B" else "tf128",
             f"efficientnet_v2/efficientnetv2-{k.lower()}_notop.h5", h, p)
      for k, (h, p) in _EFFICIENTNET_V2.items()),
    *(_entry(name, "resnet_v2" if name.endswith("V2") else "resnet",
             "tf" if name.endswith("V2") else "caffe",
             f"resnet/{name.lower()}{_TF_KERNELS}", h, p)
      for name, (h, p) in _RESNET.items()),
    *(_entry(f"DenseNet{k}", "densenet", "torch", f"densenet/densenet{k}{_TF_KERNELS}", h, p)
      for k, (h, p) in _DENSENET.items()),
    *(_entry(f"ConvNeXt{k}", "convnext", "torch", f"convnext/convnext_{k.lower()}_notop.h5",
             h, p) for k, (h, p) in _CONVNEXT.items()),
    _entry("VGG16", "vgg16", "caffe", f"vgg16/vgg16{_TF_KERNELS}",
           "6d6bbae143d832006294945121d1f1fc", 14714688),
    _entry("VGG19", "vgg19", "caffe", f"vgg19/vgg19{_TF_KERNELS}",
           "253f8cb515780f3b799900260a226db6", 20024384),
    _entry("InceptionV3", "inception_v3", "tf", f"inception_v3/inception_v3{_TF_KERNELS}",
           "bcbd6486424b2319ff4ef7d526e38f63", 21802784, min_size=75, default_size=299),
    _entry("InceptionResNetV2", "inception_resnet_v2", "tf",
           f"inception_resnet_v2/inception_resnet_v2{_TF_KERNELS}",
           "d19885ff4a710c122648d3b5c3b684e4", 54336736, min_size=75, default_size=299),
    _entry("Xception", "xception", "tf", f"xception/xception{_TF_KERNELS}",
           "b0042744bf5b25fce3cb969f33bebb97", 20861480, min_size=71, default_size=299),
    _entry("NASNetMobile", "nasnet", "tf", "nasnet/NASNet-mobile-no-top.h5",
           "1ed92395b5b598bdda52abe5c0dbfd63", 4269716),
    _entry("NASNetLarge", "nasnet", "tf", "nasnet/NASNet-large-no-top.h5",
           "d81d89dc07e6e56530c4e77faddd61b5", 84916818, default_size=331),
]  # fmt: skip

BACKBONES: dict[str, Backbone] = {b.name: b for b in _ALL}
"""Every backbone by its `keras.applications` name, the light ones first."""

SMALLEST = "MobileNetV3Small"
"""The backbone for quick starts and tests: under a million parameters, a 4 MB download."""


class UnknownBackboneError(KeyError):
    def __str__(self) -> str:
        return f"unknown pretrained network {self.args[0]!r}; choose one of {', '.join(BACKBONES)}"


def backbone(name: str) -> Backbone:
    """The entry of `name`, case-insensitively (`mobilenetv2` finds MobileNetV2)."""
    if name in BACKBONES:
        return BACKBONES[name]
    for key, entry in BACKBONES.items():
        if key.lower() == name.lower():
            return entry
    raise UnknownBackboneError(name)
