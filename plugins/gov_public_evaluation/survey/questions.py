"""The default questions of a cycle's survey: one per topic of the public evaluation in the source
(004 part 6: 海西建设和经济发展、新农村建设、文化教育、医疗卫生、社会保障、促进就业、环境保护、社会治安、
安全生产、廉洁从政、行政效率,以及领导班子整体形象). The respondent evaluates the unit named at the top
of the form (a village or a department), so every question asks about 该单位 ("the unit"). The
wording of each question is the portal's **(default)**; the office edits a cycle's questions before
its first answer arrives, and a new cycle starts from the questions of the scheme's previous cycle
(:func:`plugins.gov_public_evaluation.survey.service.prepare_survey`)."""
from __future__ import annotations

DEFAULT_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("经济发展", "您对该单位推动经济发展工作的成效是否满意？",
     "Are you satisfied with the unit's work on economic development?"),
    ("新农村建设", "您对该单位推进新农村建设的工作是否满意？",
     "Are you satisfied with the unit's work on building the new countryside?"),
    ("文化教育", "您对该单位在文化教育方面的工作是否满意？",
     "Are you satisfied with the unit's work on culture and education?"),
    ("医疗卫生", "您对该单位在医疗卫生方面的工作是否满意？",
     "Are you satisfied with the unit's work on medical care and health?"),
    ("社会保障", "您对该单位在社会保障方面的工作是否满意？",
     "Are you satisfied with the unit's work on social security?"),
    ("促进就业", "您对该单位促进就业的工作是否满意？",
     "Are you satisfied with the unit's work on promoting employment?"),
    ("环境保护", "您对该单位在环境保护方面的工作是否满意？",
     "Are you satisfied with the unit's work on environmental protection?"),
    ("社会治安", "您对该单位维护社会治安的工作是否满意？",
     "Are you satisfied with the unit's work on public order?"),
    ("安全生产", "您对该单位抓安全生产的工作是否满意？",
     "Are you satisfied with the unit's work on work safety?"),
    ("廉洁从政", "您对该单位干部廉洁从政的情况是否满意？",
     "Are you satisfied with the integrity of the unit's officials?"),
    ("行政效率", "您对该单位的办事效率和服务态度是否满意？",
     "Are you satisfied with the unit's efficiency and attitude of service?"),
    ("领导班子整体形象", "您对该单位领导班子的整体形象是否满意？",
     "Are you satisfied with the unit's leadership team as a whole?"),
)
"""(topic, question in Chinese, question in English), in the order asked."""
