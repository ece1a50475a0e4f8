"""The receipt's words in the six languages of the applicant pages.

The receipt is a document a person hands to an employer, a lawyer or a court, so its few sentences live
here, reviewed as one document, rather than scattered in the page catalogs (a PDF must never fall back to a
language its holder cannot read). Spanish, Portuguese and Ukrainian are machine translations awaiting
native review, as the page catalogs are.
"""

from __future__ import annotations

RECEIPT_LANGUAGES = ("fr", "en", "ar", "es", "pt", "uk")
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
        "zone_time": "heure de %(city)s",
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
        "zone_time": "%(city)s time",
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
        "zone_time": "توقيت %(city)s",
    },
    "es": {
        "title": "Justificante de solicitud de cita",
        "intro": "Fairslot certifica que la persona indicada a continuación ha solicitado una cita.",
        "name": "Nombre",
        "service": "Trámite",
        "offices": "Oficinas solicitadas",
        "channel": "Presentada",
        "submitted_at": "Solicitud presentada el",
        "status": "Estado a",
        "draws": "Sorteos",
        "no_draw": "Aún no hay sorteo: la solicitud espera el próximo sorteo.",
        "draw_line": "Sorteo n.º %(draw)s, %(office)s, el %(at)s: %(outcome)s",
        "check_title": "Verificar este certificado",
        "check_how": (
            "Escanee el código QR o abra el enlace siguiente: la página indica si el certificado es auténtico "
            "y muestra su contenido. El texto firmado, al pie, también puede pegarse en %(check)s; las claves "
            "públicas que lo verifican sin conexión se publican en %(keys)s."
        ),
        "code_reminder": (
            "Su código de acceso no figura en este documento, que puede entregarse a terceros. Consérvelo "
            "para seguir su solicitud; si lo pierde, cualquier ventanilla le dará uno nuevo al presentar su "
            "documento de identidad."
        ),
        "signed": "Certificado firmado (JWS)",
        "earlier_draws": "… y %(count)s sorteos anteriores, todos en el certificado firmado.",
        "token_by_link": "El texto firmado es demasiado largo para esta página: el código QR lo abre entero.",
        "issued_at": "Emitido el",
        "zone_time": "hora de %(city)s",
    },
    "pt": {
        "title": "Comprovativo de pedido de marcação",
        "intro": "A Fairslot atesta que a pessoa abaixo indicada pediu uma marcação.",
        "name": "Nome",
        "service": "Serviço",
        "offices": "Balcões pedidos",
        "channel": "Apresentado",
        "submitted_at": "Pedido apresentado em",
        "status": "Estado em",
        "draws": "Sorteios",
        "no_draw": "Ainda não houve sorteio: o pedido aguarda o próximo sorteio.",
        "draw_line": "Sorteio n.º %(draw)s, %(office)s, em %(at)s: %(outcome)s",
        "check_title": "Verificar este atestado",
        "check_how": (
            "Leia o código QR ou abra a ligação abaixo: a página indica se o atestado é autêntico e mostra o "
            "seu conteúdo. O texto assinado, no fundo da página, também pode ser colado em %(check)s; as "
            "chaves públicas que o verificam sem ligação estão publicadas em %(keys)s."
        ),
        "code_reminder": (
            "O seu código de acesso não consta deste documento, que pode ser entregue a terceiros. Guarde-o "
            "para acompanhar o seu pedido; se o perder, qualquer balcão lhe dá um novo mediante apresentação "
            "do seu documento de identificação."
        ),
        "signed": "Atestado assinado (JWS)",
        "earlier_draws": "… e %(count)s sorteios anteriores, todos no atestado assinado.",
        "token_by_link": "O texto assinado é demasiado longo para esta página: o código QR abre-o por inteiro.",
        "issued_at": "Emitido em",
        "zone_time": "hora de %(city)s",
    },
    "uk": {
        "title": "Довідка про заявку на запис",
        "intro": "Fairslot засвідчує, що зазначена нижче особа подала заявку на запис.",
        "name": "Ім'я",
        "service": "Послуга",
        "offices": "Обрані відділення",
        "channel": "Подано",
        "submitted_at": "Заявку подано",
        "status": "Стан на",
        "draws": "Жеребкування",
        "no_draw": "Жеребкування ще не було: заявка чекає на наступне.",
        "draw_line": "Жеребкування № %(draw)s, %(office)s, %(at)s: %(outcome)s",
        "check_title": "Перевірити цю довідку",
        "check_how": (
            "Відскануйте QR-код або відкрийте посилання нижче: сторінка покаже, чи довідка справжня, і її "
            "зміст. Підписаний текст унизу також можна вставити на %(check)s; публічні ключі для перевірки "
            "без мережі опубліковано на %(keys)s."
        ),
        "code_reminder": (
            "Вашого коду доступу немає в цьому документі, який можна передати іншим. Збережіть його, щоб "
            "стежити за заявкою; якщо ви його втратите, у будь-якому віконці вам дадуть новий після "
            "пред'явлення документа, що посвідчує особу."
        ),
        "signed": "Підписана довідка (JWS)",
        "earlier_draws": "… і ще %(count)s попередніх жеребкувань, усі в підписаній довідці.",
        "token_by_link": "Підписаний текст задовгий для цієї сторінки: QR-код відкриває його повністю.",
        "issued_at": "Видано",
        "zone_time": "час: %(city)s",
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
        "forfeited": "rendez-vous perdu : une déclaration a été réfutée",
        "released": "rendez-vous libéré faute de confirmation",
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
        "forfeited": "appointment forfeited: a declared claim was refuted",
        "released": "appointment released for want of confirmation",
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
        "forfeited": "فُقد الموعد: ثبت خطأ تصريح",
        "released": "حُرِّر الموعد لعدم تأكيده",
    },
    "es": {
        "pending": "a la espera de un sorteo",
        "offered": "se ofrece una cita",
        "booked": "cita reservada",
        "attended": "cita atendida",
        "withdrawn": "retirada",
        "cancelled": "anulada",
        "no_show": "cita perdida",
        "superseded": "sustituida tras comprobar la identidad",
        "forfeited": "cita perdida por una declaración refutada",
        "released": "cita liberada por falta de confirmación",
    },
    "pt": {
        "pending": "a aguardar um sorteio",
        "offered": "foi proposta uma marcação",
        "booked": "marcação reservada",
        "attended": "marcação cumprida",
        "withdrawn": "retirado",
        "cancelled": "anulado",
        "no_show": "falta à marcação",
        "superseded": "substituído após verificação da identidade",
        "forfeited": "marcação perdida por uma declaração refutada",
        "released": "marcação libertada por falta de confirmação",
    },
    "uk": {
        "pending": "очікує на жеребкування",
        "offered": "запропоновано запис",
        "booked": "запис заброньовано",
        "attended": "прийом відбувся",
        "withdrawn": "відкликано",
        "cancelled": "скасовано",
        "no_show": "прийом пропущено",
        "superseded": "замінено після перевірки особи",
        "forfeited": "запис втрачено через спростоване твердження",
        "released": "запис звільнено, бо його не підтвердили",
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
    "es": {
        "offered": "se le ofreció una franja",
        "not_selected": "no seleccionado esta vez",
        "no_compatible_slot": "ninguna franja compatible",
    },
    "pt": {
        "offered": "foi-lhe proposta uma vaga",
        "not_selected": "não selecionado desta vez",
        "no_compatible_slot": "nenhuma vaga compatível",
    },
    "uk": {
        "offered": "запропоновано слот",
        "not_selected": "цього разу не обрано",
        "no_compatible_slot": "немає відповідного слоту",
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
    "es": {
        "online": "en línea",
        "counter": "en una ventanilla o por teléfono",
        "partner": "a través de una asociación colaboradora",
    },
    "pt": {
        "online": "em linha",
        "counter": "num balcão ou por telefone",
        "partner": "por uma associação parceira",
    },
    "uk": {
        "online": "онлайн",
        "counter": "у віконці або телефоном",
        "partner": "через партнерську організацію",
    },
}


def language_of(lang: str) -> str:
    """The receipt language for ``lang`` (French when the receipt has no text in it)."""
    return lang if lang in RECEIPT_LANGUAGES else "fr"
