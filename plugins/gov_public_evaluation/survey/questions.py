"""The default questions of a cycle's survey: one per topic of the public evaluation in the source
(004 part 6: 海西建设和经济发展、新农村建设、文化教育、医疗卫生、社会保障、促进就业、环境保护、社会治安、
安全生产、廉洁从政、行政效率,以及领导班子整体形象). The wording of each question is the portal's
**(default)**; the office edits a cycle's questions before its first answer arrives."""
from __future__ import annotations

DEFAULT_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("经济发展", "您对本单位推动经济发展工作的成效是否满意?",
     "Are you satisfied with the unit's work on economic development?"),
    ("新农村建设", "您对新农村建设工作是否满意?", "Are you satisfied with the building of the new countryside?"),
    ("文化教育", "您对文化教育工作是否满意?", "Are you satisfied with culture and education?"),
    ("医疗卫生", "您对医疗卫生工作是否满意?", "Are you satisfied with medical care and health?"),
    ("社会保障", "您对社会保障工作是否满意?", "Are you satisfied with social security?"),
    ("促进就业", "您对促进就业工作是否满意?", "Are you satisfied with the promotion of employment?"),
    ("环境保护", "您对环境保护工作是否满意?", "Are you satisfied with environmental protection?"),
    ("社会治安", "您对社会治安状况是否满意?", "Are you satisfied with public order?"),
    ("安全生产", "您对安全生产工作是否满意?", "Are you satisfied with work safety?"),
    ("廉洁从政", "您对干部廉洁从政情况是否满意?", "Are you satisfied with the integrity of the officials?"),
    ("行政效率", "您对办事效率和服务态度是否满意?", "Are you satisfied with the efficiency and attitude of the service?"),
    ("领导班子整体形象", "您对领导班子的整体形象是否满意?", "Are you satisfied with the leadership team as a whole?"),
)
"""(topic, question in Chinese, question in English), in the order asked."""
