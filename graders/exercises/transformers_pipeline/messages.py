"""What the checks of transformers_pipeline say to students (ko/en); `msg` in graders/messages.py finds these keys."""

MESSAGES: dict[str, dict[str, str]] = {
    "structure_expected": {"ko": "리뷰마다 {'label': 'POSITIVE' 또는 'NEGATIVE', 'score': 0~1} 딕셔너리 하나씩인 리스트",
                           "en": "a list with one {'label': 'POSITIVE'|'NEGATIVE', 'score': 0..1} dict per review"},
    "structure_hint": {"ko": "classifier = pipeline('sentiment-analysis', model=MODEL_DIR) — 작업 이름의 철자를 확인하세요.",
                       "en": "classifier = pipeline('sentiment-analysis', model=MODEL_DIR) — check the task name's spelling."},
    "structure_found": {"ko": "{type} (길이 {length}): {items}", "en": "{type} (length {length}): {items}"},
    "structure_found_iterator": {"ko": "{type}: 한 번 읽으면 비는 반복자(iterator)라 리스트가 아닙니다 (len()·[i] 불가). {value}",
                                 "en": "{type}: an iterator, read once, not a list (no len(), no [i]). {value}"},
    "structure_hint_iterator": {"ko": "classifier 는 pipeline('sentiment-analysis', model=MODEL_DIR) 그 자체로 두세요. "
                                      "파이프라인은 결과 리스트를 돌려줍니다 (yield 로 감싸지 마세요).",
                                "en": "keep classifier = pipeline('sentiment-analysis', model=MODEL_DIR) itself: the "
                                      "pipeline returns a list of results (do not wrap it in a generator)."},
    "labels_expected": {"ko": "리뷰 수만큼의 'POSITIVE'/'NEGATIVE' 문자열 리스트",
                        "en": "a list of 'POSITIVE'/'NEGATIVE' strings, one per review"},
    "labels_found": {"ko": "{type} (개수 {n}): {sample}", "en": "{type} (length {n}): {sample}"},
    "labels_hint": {"ko": "results = classifier(texts) 는 리뷰마다 딕셔너리 하나입니다: [r['label'] for r in results]",
                    "en": "results = classifier(texts) has one dict per review: [r['label'] for r in results]"},
    "labels_found_iterator": {"ko": "{type}: 한 번 읽으면 비는 반복자(iterator)라 리스트가 아닙니다 (len()·[i] 불가). 값: {sample}",
                              "en": "{type}: an iterator, read once, not a list (no len(), no [i]). values: {sample}"},
    "labels_hint_iterator": {"ko": "(r['label'] for r in results) 는 제너레이터, map(...) 은 map 객체입니다. "
                                   "대괄호로 [r['label'] for r in results] 처럼 리스트를 만들거나 list(...) 로 감싸 돌려주세요.",
                             "en": "(r['label'] for r in results) is a generator and map(...) a map object: build a list with "
                                   "brackets, [r['label'] for r in results], or wrap it in list(...)."},
    "labels_unusable": {"ko": "레이블 리스트가 아님", "en": "not a list of labels"},
    "sentiment_accuracy_hint": {"ko": "predict_labels 가 리뷰 목록 전체의 레이블을 순서대로 돌려주는지 확인하세요.",
                                "en": "check that predict_labels returns every review's label, in order."},
    "ratio_expected": {"ko": "POSITIVE 개수 / 전체 개수 (예: 4개 중 3개 → 0.75)",
                       "en": "number of POSITIVE / total (e.g. 3 of 4 → 0.75)"},
    "ratio_hint": {"ko": "sum(1 for label in labels if label == 'POSITIVE') / len(labels)",
                   "en": "sum(1 for label in labels if label == 'POSITIVE') / len(labels)"},
    "confident_expected": {"ko": "score 가 threshold 이상인 리뷰만 (리뷰, 레이블) 로",
                           "en": "only reviews with score >= threshold, as (review, label)"},
    "confident_found": {"ko": "threshold {t}: {kept}개 남김 (기대 {want}개)", "en": "threshold {t}: kept {kept} (expected {want})"},
    "confident_pairs_found": {"ko": "남긴 항목이 (리뷰, 레이블) 튜플이 아님 (두 번째 값: {second})",
                              "en": "kept items are not (review, label) tuples (second value: {second})"},
    "confident_boundary_found": {"ko": "점수가 threshold 와 정확히 같은 리뷰를 뺐습니다 ('이상'은 >= 입니다)",
                                 "en": "a review whose score equals the threshold was dropped ('at least' means >=)"},
    "confident_hint": {"ko": "r['score'] >= threshold 인 것만 남기세요 (부등호 방향과 zip(texts, results) 를 확인).",
                       "en": "keep r['score'] >= threshold (check the comparison and zip(texts, results))."},
}
