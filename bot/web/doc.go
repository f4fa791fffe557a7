// Package web is intake's HTTP edge. This part is the counsellor desk: server-rendered
// pages under /desk/ (login, the queue, a case with its thread and forms, the .ics of a
// booked appointment) over bot.Desk, which does every check of role and claim itself.
//
// The pages need no JavaScript and load nothing from another origin: templates and the one
// stylesheet are embedded. Every value is escaped by html/template, so a student's story
// containing markup shows as the text it is.
package web
