"""Small offline "pretrained" CNN for the fastai transfer-learning exercise.

``digit_body`` plays the part that ``resnet34`` plays in the fastai Pets lesson, but the
weights come from a local file (trained by the course on digits 0-4) instead of the
internet::

    from fastai.vision.all import *
    from dlcourse.exercises.fastai_transfer.models import digit_body, digit_pets_path

    path = digit_pets_path()
    dls = ImageDataLoaders.from_name_re(path, get_image_files(path), pat=r'^([a-z]+)_\\d+\\.png$',
                                        item_tfms=Resize(32), num_workers=0)
    learn = vision_learner(dls, digit_body, metrics=error_rate)
    learn.fine_tune(3)

How fastai (2.8) uses it: ``digit_body`` is not in ``fastai.vision.learner.model_meta``, so
fastai's default meta applies: it calls ``digit_body(pretrained=...)``, cuts the model
before its last child that contains a pooling layer (the ``AdaptiveAvgPool2d`` here), adds
its usual head (concat pooling + two linear layers), splits parameters into (body, head)
and, when ``pretrained=True``, freezes the body.  No ``Normalize`` is added: the body was
trained on RGB images scaled to [0, 1], which is exactly what fastai gives without one.
"""
from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from dlcourse._lang import pick
from dlcourse.datasets.mnist import data_dir  # $DLCOURSE_DATA, else ~/.cache/dlcourse

WEIGHTS_FILE = "digit_body.safetensors"
IMAGES_DIR = ("digit_pets", "images")
LAYERS = ((32, 1), (64, 2), (128, 2), (128, 2))   # (out channels, stride) of the 3x3 conv blocks
MIX = (512, 4)     # last block: (out channels, kernel) of an unpadded conv over the whole 4x4 map


def digit_pets_path() -> Path:
    """Folder of PNG digits named ``<digit name>_<index>.png`` (e.g. ``seven_0412.png``)."""
    return data_dir().joinpath(*IMAGES_DIR)


def _block(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class DigitBody(nn.Sequential):
    """Conv-BN-ReLU blocks, average pooling, flatten.

    Four 3x3 blocks (strides 1, 2, 2, 2) take a 32x32 (or 28x28) image to a 4x4 map; a
    4x4 unpadded conv then mixes the whole map into 512 channels, so the features keep
    where strokes are even after fastai's head pools them.
    Input: RGB float images in [0, 1] (trained at 32x32).  Output: ``[batch, 512]``.
    fastai keeps the five conv blocks and drops the pooling and flatten.
    """

    def __init__(self, n_in: int = 3, layers=LAYERS, mix=MIX):
        chans = (n_in, *[c for c, _ in layers])
        blocks = [_block(a, b, 3, s) for a, b, (_, s) in zip(chans[:-1], chans[1:], layers)]
        if mix:
            blocks.append(_block(chans[-1], mix[0], mix[1], 1, 0))
        super().__init__(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def digit_body(pretrained: bool = True, path: str | os.PathLike | None = None, **kwargs) -> DigitBody:
    """Build the digit body; with ``pretrained`` load the course's weights.

    ``path`` overrides the weight file (default ``$DLCOURSE_DATA/digit_body.safetensors``).
    Other keyword arguments (torchvision style ``weights=``, ``progress=``) are ignored so
    the function can stand in for a torchvision constructor.
    """
    model = DigitBody()
    if pretrained:
        from safetensors.torch import load_file

        file = Path(path) if path else data_dir() / WEIGHTS_FILE
        if not file.exists():
            raise FileNotFoundError(pick(
                f"사전학습 가중치 파일 {file} 이(가) 없습니다. 과제 데이터가 준비된 환경"
                "(DLCOURSE_DATA)에서 실행하거나, 처음부터 학습하려면 pretrained=False 를 쓰세요.",
                f"Pretrained weight file {file} is missing. Run where the course data is "
                "installed (DLCOURSE_DATA), or use pretrained=False to train from scratch."))
        model.load_state_dict(load_file(str(file)), strict=True)
    return model
