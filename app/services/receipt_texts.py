"""The receipt's words in French, English and Arabic.

The receipt is a document a person hands to an employer, a lawyer or a court, so it exists in these three
languages whatever the web catalogs hold (the page catalogs are gettext; these few sentences live here so
that a PDF never falls back to a language its holder cannot read). Other languages fall back to French
with English beside it.
"""

from __future__ import annotations

RECEIPT_LANGUAGES = ("fr", "en", "ar")
RTL = frozenset({"ar"})

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Attestation de demande de rendez-vous",
        "intro": "Fairslot atteste que la personne ci-dessous a demandé un rendez-vous.",
        "name": "Nom",
        "service": "Démarche",
        "offices": "Guichets demandés",
        "channel": "Déposée",
        "submitted_at": "Demande déposée le",
        "status": "État au",
        "draws": "Tirages au sort",
        "no_draw": "Aucun tirage pour l'instant : la demande attend le prochain tirage.",
        "draw_line": "Tirage n° %(draw)s, %(office)s, le %(at)s : %(outcome)s",
        "check_title": "Vérifier cette attestation",
        "check_how": (
            "Scannez le code QR ou ouvrez le lien ci-dessous : la page dit si l'attestation est authentique "
            "et en montre le contenu. Le texte signé, en bas de page, peut aussi être collé sur %(check)s ; "
            "les clés publiques qui le vérifient hors ligne sont publiées sur %(keys)s."
        ),
        "code_reminder": (
            "Votre code d'accès n'est pas sur ce document, qui peut être remis à un tiers. Gardez-le pour "
            "suivre votre demande ; perdu, un guichet vous en donne un nouveau sur présentation de votre pièce "
            "d'identité."
        ),
        "signed": "Attestation signée (JWS)",
        "earlier_draws": "… et %(count)s tirages plus anciens, tous dans l'attestation signée.",
        "token_by_link": "Le texte signé est trop long pour cette page : le code QR l'ouvre en entier.",
        "issued_at": "Émise le",
    },
    "en": {
        "title": "Proof of an appointment request",
        "intro": "Fairslot attests that the person below asked for an appointment.",
        "name": "Name",
        "service": "Service",
        "offices": "Offices asked for",
        "channel": "Filed",
        "submitted_at": "Request filed on",
        "status": "Status on",
        "draws": "Draws",
        "no_draw": "No draw yet: the request waits for the next draw.",
        "draw_line": "Draw no. %(draw)s, %(office)s, on %(at)s: %(outcome)s",
        "check_title": "Check this attestation",
        "check_how": (
            "Scan the QR code or open the link below: the page says whether the attestation is genuine and "
            "shows what it states. The signed text at the bottom can also be pasted at %(check)s; the public "
            "keys that verify it offline are published at %(keys)s."
        ),
        "code_reminder": (
            "Your access code is not on this document, which may be handed to others. Keep it to follow "
            "your request; if lost, any counter gives you a new one when you show your identity document."
        ),
        "signed": "Signed attestation (JWS)",
        "earlier_draws": "… and %(count)s earlier draws, all in the signed attestation.",
        "token_by_link": "The signed text is too long for this page: the QR code opens it in full.",
        "issued_at": "Issued on",
    },
    "ar": {
        "title": "إثبات طلب موعد",
        "intro": "يشهد Fairslot بأن الشخص المذكور أدناه قد طلب موعدًا.",
        "name": "الاسم",
        "service": "الإجراء",
        "offices": "المكاتب المطلوبة",
        "channel": "قُدِّم",
        "submitted_at": "تاريخ تقديم الطلب",
        "status": "الحالة في",
        "draws": "القرعات",
        "no_draw": "لا توجد قرعة بعد: الطلب ينتظر القرعة القادمة.",
        "draw_line": "القرعة رقم %(draw)s، %(office)s، في %(at)s: %(outcome)s",
        "check_title": "التحقق من هذا الإثبات",
        "check_how": (
            "امسح رمز QR أو افتح الرابط أدناه: تبيّن الصفحة ما إذا كان الإثبات أصليًا وتعرض مضمونه. "
            "يمكن أيضًا لصق النص الموقَّع أسفل الصفحة في %(check)s؛ والمفاتيح العامة التي تتحقق منه "
            "دون اتصال منشورة في %(keys)s."
        ),
        "code_reminder": (
            "رمز الدخول الخاص بك غير موجود في هذه الوثيقة التي يمكن تسليمها للغير. احتفظ به لمتابعة طلبك؛ "
            "وإذا فقدته، يعطيك أي شباك رمزًا جديدًا عند تقديم وثيقة هويتك."
        ),
        "signed": "الإثبات الموقَّع (JWS)",
        "earlier_draws": "… و%(count)s قرعات سابقة، كلها في الإثبات الموقَّع.",
        "token_by_link": "النص الموقَّع أطول من هذه الصفحة: رمز QR يفتحه كاملًا.",
        "issued_at": "صدر في",
    },
}

STATUS: dict[str, dict[str, str]] = {
    "fr": {
        "pending": "en attente d'un tirage",
        "offered": "un rendez-vous est proposé",
        "booked": "rendez-vous réservé",
        "attended": "rendez-vous honoré",
        "withdrawn": "retirée",
        "cancelled": "annulée",
        "no_show": "rendez-vous manqué",
        "superseded": "remplacée après vérification de l'identité",
    },
    "en": {
        "pending": "waiting for a draw",
        "offered": "an appointment is offered",
        "booked": "appointment booked",
        "attended": "appointment attended",
        "withdrawn": "withdrawn",
        "cancelled": "cancelled",
        "no_show": "appointment missed",
        "superseded": "superseded after an identity check",
    },
    "ar": {
        "pending": "في انتظار القرعة",
        "offered": "عُرض موعد",
        "booked": "تم حجز الموعد",
        "attended": "تم حضور الموعد",
        "withdrawn": "مسحوب",
        "cancelled": "ملغى",
        "no_show": "موعد فائت",
        "superseded": "استُبدل بعد التحقق من الهوية",
    },
}

OUTCOME: dict[str, dict[str, str]] = {
    "fr": {
        "offered": "créneau proposé",
        "not_selected": "non tiré cette fois",
        "no_compatible_slot": "aucun créneau compatible",
    },
    "en": {
        "offered": "offered a slot",
        "not_selected": "not selected this time",
        "no_compatible_slot": "no compatible slot",
    },
    "ar": {
        "offered": "عُرض موعد",
        "not_selected": "لم يُختر هذه المرة",
        "no_compatible_slot": "لا يوجد موعد مناسب",
    },
}

CHANNEL: dict[str, dict[str, str]] = {
    "fr": {
        "online": "en ligne",
        "counter": "à un guichet ou par téléphone",
        "partner": "par une association partenaire",
    },
    "en": {"online": "online", "counter": "at a counter or by phone", "partner": "by a partner organisation"},
    "ar": {"online": "عبر الإنترنت", "counter": "في شباك أو عبر الهاتف", "partner": "عن طريق جمعية شريكة"},
}


def language_of(lang: str) -> str:
    """The receipt language for ``lang`` (French when the receipt has no text in it)."""
    return lang if lang in RECEIPT_LANGUAGES else "fr"
