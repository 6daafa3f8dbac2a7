"""The seed lesson's concepts: every one must be examined by at least one quiz question.

The list follows the lesson the course was built from (ML vs DL, the table of six
differences, the four frameworks and their code).  `coverage.py` builds the
concept → questions table from a bank; the tests fail when a concept has none.
"""

CONCEPTS = {
    # what deep learning is
    "dl_ann_branch": "딥러닝은 인공신경망(ANN)에 기반한 머신러닝의 한 분야",
    "deep_layers": "여러 층을 깊게 쌓은 신경망 (deep = 다층)",
    "learned_features": "사람이 특징을 만들지 않고 모델이 데이터에서 특징을 스스로 학습",
    "unstructured_data": "이미지·음성·텍스트 같은 비정형 데이터에 강함",
    "app_image_recognition": "응용: 이미지 인식",
    "app_nlp": "응용: 자연어 처리",
    "app_speech_recognition": "응용: 음성 인식",
    "app_autonomous_driving": "응용: 자율주행",
    "feed_forward": "순방향 신경망 (입력층 → 은닉층 → 출력층, 한 방향)",
    # the ML vs DL table
    "table_data_scale": "표: 데이터 규모 (ML 적은 데이터도 가능 / DL 대량의 데이터 필요)",
    "table_features": "표: 특징 추출 (ML 사람이 특징 설계 / DL 자동 학습)",
    "table_hardware": "표: 하드웨어 (ML CPU로 충분 / DL GPU 필요)",
    "table_interpretability": "표: 해석 가능성 (ML 해석 쉬움 / DL 블랙박스)",
    "table_fields": "표: 응용 분야 (ML 정형 데이터 / DL 이미지·음성·텍스트)",
    "table_training_time": "표: 학습 시간 (ML 짧음 / DL 김)",
    # the frameworks
    "tf_google": "TensorFlow: Google이 개발",
    "tf_mlops_edge": "TensorFlow: 기업용 MLOps, 모바일·엣지 기기 배포",
    "pytorch_meta": "PyTorch: Meta(Facebook)가 개발",
    "pytorch_intuitive_debugging": "PyTorch: 직관적인 코드, 쉬운 디버깅",
    "pytorch_research": "PyTorch: 연구에서 널리 사용",
    "fastai_on_pytorch": "fastai: PyTorch 위에 만든 라이브러리",
    "fastai_high_level": "fastai: 고수준 API, 적은 코드",
    "fastai_pretrained_time": "fastai: 사전학습 모델(전이학습)로 시간 절약",
    "hf_nlp": "Hugging Face Transformers: 자연어 처리 중심",
    "hf_pretrained": "Hugging Face Transformers: 사전학습 모델 허브",
    "hf_pipeline": "Hugging Face Transformers: pipeline 한 줄로 추론",
    # reading the lesson's code
    "code_keras": "코드 읽기: Keras 모델 정의·compile·fit",
    "code_pytorch": "코드 읽기: PyTorch nn.Module과 학습 루프",
    "code_fastai": "코드 읽기: fastai DataLoaders·learner·fine_tune",
    "code_transformers": "코드 읽기: transformers pipeline 호출과 결과",
}
