"""What the checks of fastai_transfer say to students (ko/en); `msg` in graders/messages.py finds these keys."""

MESSAGES: dict[str, dict[str, str]] = {
    "vocab_expected": {"ko": "클래스 5개: ['eight', 'five', 'nine', 'seven', 'six']",
                       "en": "5 classes: ['eight', 'five', 'nine', 'seven', 'six']"},
    "vocab_found": {"ko": "{sample} ({n}개)", "en": "{sample} ({n})"},
    "vocab_hint": {"ko": "정규식의 괄호 ( ) 안이 레이블이 됩니다: pat=r'^([a-z]+)_\\d+\\.png$'",
                   "en": "the regex group ( ) becomes the label: pat=r'^([a-z]+)_\\d+\\.png$'"},
    "item_size_expected": {"ko": "배치 모양 (bs, 3, 32, 32)", "en": "batch shape (bs, 3, 32, 32)"},
    "item_size_hint": {"ko": "item_tfms=Resize(32) 를 주세요 (몸통이 32×32로 학습되었습니다).",
                       "en": "pass item_tfms=Resize(32) (the body was trained on 32×32)."},
    "metric_expected": {"ko": "metrics=error_rate", "en": "metrics=error_rate"},
    "metric_hint": {"ko": "vision_learner(dls, digit_body, metrics=error_rate) 처럼 지표를 주세요.",
                    "en": "pass the metric: vision_learner(dls, digit_body, metrics=error_rate)."},
    "n_classes_expected": {"ko": "출력 모양 (bs, 5): 클래스마다 하나", "en": "output shape (bs, 5): one per class"},
    "n_classes_hint": {"ko": "n_out 을 직접 주지 마세요. vision_learner 가 dls 의 클래스 수(5)를 씁니다.",
                       "en": "do not pass n_out: vision_learner takes the number of classes (5) from dls."},
    "pretrained_expected": {"ko": "사전학습된 digit_body 에서 출발 (몸통 가중치가 사전학습 값 근처)",
                            "en": "starting from the pretrained digit_body (body weights near the pretrained ones)"},
    "pretrained_found": {"ko": "몸통 가중치가 사전학습 값에서 {dist} 떨어짐", "en": "body weights {dist} away from the pretrained ones"},
    "pretrained_hint": {"ko": "pretrained=False 를 빼고 vision_learner(dls, digit_body, ...) 로 사전학습 가중치를 쓰세요.",
                        "en": "drop pretrained=False: vision_learner(dls, digit_body, ...) loads the pretrained weights."},
    "fine_tuned_expected": {"ko": "fine_tune: 몸통을 얼린 채 1 epoch, 그다음 전체를 풀어 학습",
                            "en": "fine_tune: one epoch with the body frozen, then all layers"},
    "phases_found": {"ko": "학습 단계 (epoch, 학습된 몸통 층/전체): {phases}",
                     "en": "training phases (epochs, trainable body layers/all): {phases}"},
    "fine_tuned_hint": {"ko": "learn.fine_tune(3) 을 쓰세요 (직접 쓴다면 learn.freeze() 뒤 fit_one_cycle, 그다음 "
                              "learn.unfreeze() 뒤 fit_one_cycle). fit_one_cycle 만 쓰면 얼린 채 학습하는 단계가 없고, "
                              "lr_find 는 학습 단계가 아닙니다. 채점은 learn 에 담긴 learner 가 거친 단계를 봅니다.",
                        "en": "use learn.fine_tune(3) (by hand: learn.freeze() then fit_one_cycle, then learn.unfreeze() "
                              "then fit_one_cycle); fit_one_cycle alone has no frozen phase and lr_find is no training "
                              "phase. The grader reads the phases of the learner in `learn`."},
    "fastai_accuracy_hint": {"ko": "사전학습 몸통 + fine_tune(3) 이면 숨은 숫자 이미지 정확도가 95% 안팎입니다.",
                             "en": "the pretrained body with fine_tune(3) reaches about 95% on the hidden digits."},
}
