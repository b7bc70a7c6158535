// The widget's own words, in the two languages of Puerto Rico's dealers' visitors.
export type Lang = "es" | "en";

export const TEXTS = {
  es: {
    open: "Abrir chat",
    close: "Minimizar chat",
    title: "Chatee con nosotros",
    switchTo: "English",
    switchLabel: "Cambiar a inglés",
    name: "Nombre",
    phone: "Teléfono",
    email: "Correo electrónico",
    message: "Mensaje",
    start: "Comenzar chat",
    offlineTitle: "Déjenos un mensaje",
    offlineIntro: "Ahora no hay agentes disponibles. Déjenos su mensaje y le contestaremos pronto.",
    offlineSend: "Enviar mensaje",
    offlineThanks: "¡Gracias! Recibimos su mensaje y le contestaremos pronto.",
    prechatIntro: "Escríbanos y un agente le atenderá.",
    send: "Enviar",
    compose: "Escriba su mensaje",
    endChat: "Terminar chat",
    queue: (p: number, m: number) => `Usted es el número ${p} en fila. Espera estimada: ${m} min.`,
    joined: (n: string) => `${n} se unió al chat.`,
    chattingWith: (n: string) => `Conversa con ${n}`,
    typing: "El agente está escribiendo…",
    ended: "El chat terminó.",
    rate: "¿Cómo fue su experiencia?",
    stars: (n: number) => `${n} de 5`,
    comment: "Comentario (opcional)",
    sendRating: "Enviar calificación",
    thanksRating: "¡Gracias por su calificación!",
    newChat: "Nuevo chat",
    accept: "Chatear ahora",
    decline: "No, gracias",
    invitation: "Invitación a chatear",
    error: "No se pudo enviar. Intente de nuevo.",
    required: "Complete este campo.",
    you: "Usted",
    reconnecting: "Reconectando…",
  },
  en: {
    open: "Open chat",
    close: "Minimize chat",
    title: "Chat with us",
    switchTo: "Español",
    switchLabel: "Switch to Spanish",
    name: "Name",
    phone: "Phone",
    email: "E-mail",
    message: "Message",
    start: "Start chat",
    offlineTitle: "Leave us a message",
    offlineIntro: "No agent is available right now. Leave a message and we will get back to you soon.",
    offlineSend: "Send message",
    offlineThanks: "Thank you! We received your message and will get back to you soon.",
    prechatIntro: "Write to us and an agent will help you.",
    send: "Send",
    compose: "Type your message",
    endChat: "End chat",
    queue: (p: number, m: number) => `You are number ${p} in line. Estimated wait: ${m} min.`,
    joined: (n: string) => `${n} joined the chat.`,
    chattingWith: (n: string) => `Chatting with ${n}`,
    typing: "The agent is typing…",
    ended: "The chat has ended.",
    rate: "How was your experience?",
    stars: (n: number) => `${n} of 5`,
    comment: "Comment (optional)",
    sendRating: "Send rating",
    thanksRating: "Thank you for your rating!",
    newChat: "New chat",
    accept: "Chat now",
    decline: "No, thanks",
    invitation: "Chat invitation",
    error: "Could not send. Please try again.",
    required: "Please fill in this field.",
    you: "You",
    reconnecting: "Reconnecting…",
  },
};

export type Texts = (typeof TEXTS)["es"];

/** The browser's language if the widget speaks it (es-PR -> es), else English. */
export function browserLang(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "es" || primary === "en") return primary;
  }
  return "en";
}
