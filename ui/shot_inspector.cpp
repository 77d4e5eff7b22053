#include "ui/shot_inspector.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "frameloom/core/edit.h"
#include "frameloom/core/time.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"
#include "ui/project_document.h"

namespace fl::studio {

namespace {
/// Picture sizes offered in the combo; every side is divisible by 16 as the models require.
constexpr int kSizes[][2] = {{64, 64},   {128, 128}, {256, 256}, {320, 192},  {480, 272},
                             {512, 512}, {480, 832}, {832, 480}, {720, 1280}, {1280, 720}};
constexpr const char* kSamplers[] = {"euler", "unipc", "dpm++"};
constexpr const char* kRates[] = {"8", "12", "15", "16", "24000/1001", "24", "25", "30000/1001", "30"};

QString size_text(int w, int h) { return QStringLiteral("%1x%2").arg(w).arg(h); }

struct Aspect {
    const char* name;
    double ratio;  // width / height
};
constexpr Aspect kAspects[] = {{"16:9", 16.0 / 9.0}, {"9:16", 9.0 / 16.0}, {"1:1", 1.0}, {"2.39:1", 2.39}};
constexpr const char* kCustomAspect = "custom";
constexpr const char* kImageFilter = "Images (*.png *.jpg *.jpeg *.bmp *.webp);;All files (*)";
constexpr const char* kVideoFilter = "Videos (*.mp4 *.mov *.mkv *.webm *.avi);;All files (*)";
constexpr const char* kMaskFilter =
    "Masks (*.png *.jpg *.jpeg *.bmp *.webp *.mp4 *.mov *.mkv *.webm *.avi);;All files (*)";

/// The single-file conditioning fields (ShotInspector::FileField order).
struct FileFieldSpec {
    const char* label;        ///< form label and file dialog title
    const char* what;         ///< in messages: "the first frame does not exist"
    const char* object_name;  ///< of the line edit; its buttons are choose_<name> / clear_<name>
    const char* filter;
    const char* tooltip;
    std::string core::Conditioning::*member;
};
constexpr FileFieldSpec kFileFields[] = {
    {"First frame", "the first frame", "firstFrame", kImageFilter,
     "The shot starts on this image (drop an image here)", &core::Conditioning::first_frame},
    {"Last frame", "the last frame", "lastFrame", kImageFilter,
     "The shot ends on this image (drop an image here)", &core::Conditioning::last_frame},
    {"Video", "the video", "sourceVideo", kVideoFilter,
     "Make the shot over this clip's frames (VACE): with a mask, in-paint it; alone, it guides the motion "
     "(a pose, depth or edge video)",
     &core::Conditioning::video},
    {"Mask", "the mask", "mask", kMaskFilter,
     "With a video: white pixels are generated anew, black ones kept (an image masks every frame, a clip "
     "frame by frame)",
     &core::Conditioning::mask},
};
}  // namespace

QStringList ShotInspector::aspectPresets() {
    QStringList out;
    for (const Aspect& a : kAspects) out << QString::fromLatin1(a.name);
    return out;
}

QSize ShotInspector::aspectSize(const QString& preset, QSize base, int multiple) {
    double ratio = 0.0;
    for (const Aspect& a : kAspects)
        if (preset == QLatin1String(a.name)) ratio = a.ratio;
    if (ratio <= 0.0 || !base.isValid() || multiple <= 0) return base;
    // Same pixel area as the model's own size, the shorter side rounded first so the ratio is kept
    // as well as the grid allows.
    const double area = static_cast<double>(base.width()) * base.height();
    const auto round_to = [multiple](double v) {
        return std::max(multiple, static_cast<int>(std::lround(v / multiple)) * multiple);
    };
    if (ratio >= 1.0) {
        const int h = round_to(std::sqrt(area / ratio));
        return {round_to(h * ratio), h};
    }
    const int w = round_to(std::sqrt(area * ratio));
    return {w, round_to(w / ratio)};
}

ShotInspector::ShotInspector(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    setObjectName("shotInspector");
    auto* form = new QFormLayout(this);

    prompt_ = new QPlainTextEdit(this);
    prompt_->setObjectName("prompt");
    prompt_->setPlaceholderText(tr("What happens in the shot"));
    prompt_->setMinimumHeight(80);
    prompt_->setMaximumHeight(200);
    negative_ = new QPlainTextEdit(this);
    negative_->setObjectName("negativePrompt");
    negative_->setPlaceholderText(tr("What to avoid"));
    negative_->setMaximumHeight(70);

    model_ = new QComboBox(this);
    model_->setObjectName("model");
    model_->setToolTip(tr("Models found in the model store (frameloom models lists them)"));
    for (const auto& card : inference::ModelStore(inference::ModelStore::default_roots()).list()) {
        if (!card.missing_files().empty()) continue;
        model_->addItem(QString::fromStdString(card.id));
        const core::GenerationParams defaults = inference::default_params(card);
        const QSize size(defaults.width, defaults.height);
        model_sizes_[QString::fromStdString(card.id)] = size;
        for (const std::string& alias : card.aliases) model_sizes_[QString::fromStdString(alias)] = size;
    }
    sampler_ = new QComboBox(this);
    sampler_->setObjectName("sampler");
    for (const char* s : kSamplers) sampler_->addItem(QString::fromLatin1(s));

    seed_ = new QLineEdit(this);
    seed_->setObjectName("seed");
    seed_->setValidator(new QRegularExpressionValidator(QRegularExpression("[0-9]{1,19}"), seed_));
    randomise_ = new QPushButton(tr("Randomise"), this);
    randomise_->setObjectName("randomiseSeed");
    seed_lock_ = new QCheckBox(tr("Lock"), this);
    seed_lock_->setObjectName("seedLock");
    seed_lock_->setChecked(true);
    seed_lock_->setToolTip(
        tr("Locked: Generate uses this seed. Unlocked: every generation draws a new seed."));
    auto* seed_row = new QHBoxLayout;
    seed_row->addWidget(seed_, 1);
    seed_row->addWidget(seed_lock_);
    seed_row->addWidget(randomise_);

    aspect_ = new QComboBox(this);
    aspect_->setObjectName("aspect");
    for (const QString& a : aspectPresets()) aspect_->addItem(a);
    aspect_->addItem(QString::fromLatin1(kCustomAspect));
    aspect_->setToolTip(tr("Picks a size of this aspect that the model supports"));

    references_ = new QListWidget(this);
    references_->setObjectName("references");
    references_->setMaximumHeight(80);
    references_->setToolTip(tr("Reference images of a character or object (drop image files here)"));
    add_reference_ = new QPushButton(tr("Add…"), this);
    add_reference_->setObjectName("addReference");
    remove_reference_ = new QPushButton(tr("Remove"), this);
    remove_reference_->setObjectName("removeReference");
    auto* ref_box = new QVBoxLayout;
    ref_box->addWidget(references_);
    auto* ref_buttons = new QHBoxLayout;
    ref_buttons->addWidget(add_reference_);
    ref_buttons->addWidget(remove_reference_);
    ref_box->addLayout(ref_buttons);

    std::array<QHBoxLayout*, 4> file_row_layouts{};
    for (size_t i = 0; i < file_rows_.size(); ++i) {
        FileRow& row = file_rows_[i];
        const QString name = QString::fromLatin1(kFileFields[i].object_name);
        row.line = new QLineEdit(this);
        row.line->setObjectName(name);
        row.line->setReadOnly(true);
        row.line->setPlaceholderText(tr("none"));
        row.line->setToolTip(tr(kFileFields[i].tooltip));
        row.choose = new QPushButton(tr("File…"), this);
        row.choose->setObjectName(QStringLiteral("choose_%1").arg(name));
        row.clear = new QPushButton(tr("Clear"), this);
        row.clear->setObjectName(QStringLiteral("clear_%1").arg(name));
        auto* layout = new QHBoxLayout;
        layout->addWidget(row.line, 1);
        layout->addWidget(row.choose);
        layout->addWidget(row.clear);
        file_row_layouts[i] = layout;
    }
    setAcceptDrops(true);

    steps_ = new QSpinBox(this);
    steps_->setObjectName("steps");
    steps_->setRange(1, 1000);
    guidance_ = new QDoubleSpinBox(this);
    guidance_->setObjectName("guidance");
    guidance_->setRange(0.0, 100.0);
    guidance_->setSingleStep(0.5);
    guidance_->setDecimals(2);
    shift_ = new QDoubleSpinBox(this);
    shift_->setObjectName("shift");
    shift_->setRange(0.01, 100.0);
    shift_->setSingleStep(0.5);
    shift_->setDecimals(2);
    size_ = new QComboBox(this);
    size_->setObjectName("size");
    for (const auto& s : kSizes) size_->addItem(size_text(s[0], s[1]), QSize(s[0], s[1]));
    frames_ = new QSpinBox(this);
    frames_->setObjectName("frames");
    frames_->setRange(1, 10000);
    fps_ = new QComboBox(this);
    fps_->setObjectName("fps");
    fps_->setEditable(true);
    for (const char* r : kRates) fps_->addItem(QString::fromLatin1(r));

    form->addRow(tr("Prompt"), prompt_);
    form->addRow(tr("Negative"), negative_);
    form->addRow(tr("Model"), model_);
    form->addRow(tr("Seed"), seed_row);
    form->addRow(tr("Sampler"), sampler_);
    form->addRow(tr("Steps"), steps_);
    form->addRow(tr("Guidance"), guidance_);
    form->addRow(tr("Shift"), shift_);
    form->addRow(tr("Aspect"), aspect_);
    form->addRow(tr("Size"), size_);
    form->addRow(tr("Frames"), frames_);
    form->addRow(tr("FPS"), fps_);
    form->addRow(tr("References"), ref_box);
    for (size_t i = 0; i < file_rows_.size(); ++i)
        form->addRow(tr(kFileFields[i].label), file_row_layouts[i]);

    connect(prompt_, &QPlainTextEdit::textChanged, this, &ShotInspector::commit);
    connect(negative_, &QPlainTextEdit::textChanged, this, &ShotInspector::commit);
    connect(seed_, &QLineEdit::editingFinished, this, &ShotInspector::commit);
    connect(randomise_, &QPushButton::clicked, this, &ShotInspector::randomiseSeed);
    connect(model_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(sampler_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(steps_, &QSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(guidance_, &QDoubleSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(shift_, &QDoubleSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(size_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(frames_, &QSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(fps_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(fps_->lineEdit(), &QLineEdit::editingFinished, this, &ShotInspector::commit);
    connect(document_, &ProjectDocument::changed, this, &ShotInspector::refresh);
    connect(aspect_, &QComboBox::activated, this, [this](int index) {
        const QString preset = aspect_->itemText(index);
        if (preset != QLatin1String(kCustomAspect)) applyAspect(preset);
    });
    connect(add_reference_, &QPushButton::clicked, this, [this] {
        const QStringList files =
            QFileDialog::getOpenFileNames(this, tr("Add reference images"), QString(), tr(kImageFilter));
        if (!files.isEmpty()) addReferenceFiles(files);
    });
    connect(remove_reference_, &QPushButton::clicked, this,
            [this] { removeReference(references_->currentRow()); });
    for (size_t i = 0; i < file_rows_.size(); ++i) {
        const auto field = static_cast<FileField>(i);
        connect(file_rows_[i].choose, &QPushButton::clicked, this, [this, field, i] {
            const QString file = QFileDialog::getOpenFileName(this, tr(kFileFields[i].label), QString(),
                                                              tr(kFileFields[i].filter));
            if (!file.isEmpty()) setConditioningFile(field, file);
        });
        connect(file_rows_[i].clear, &QPushButton::clicked, this,
                [this, field] { setConditioningFile(field, {}); });
    }

    set_enabled(false);
}

void ShotInspector::setShot(const std::string& shot_id) {
    shot_id_ = shot_id;
    refresh();
}

void ShotInspector::set_enabled(bool enabled) {
    for (QWidget* w : std::initializer_list<QWidget*>{
             prompt_, negative_, model_, seed_, randomise_, sampler_, steps_, guidance_, shift_, size_,
             frames_, fps_, seed_lock_, aspect_, references_, add_reference_, remove_reference_}) {
        w->setEnabled(enabled);
    }
    for (const FileRow& row : file_rows_)
        for (QWidget* w : std::initializer_list<QWidget*>{row.line, row.choose, row.clear})
            w->setEnabled(enabled);
}

void ShotInspector::refresh() {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    updating_ = true;
    set_enabled(shot != nullptr);
    if (!shot) {
        prompt_->clear();
        negative_->clear();
        seed_->clear();
        references_->clear();
        for (const FileRow& row : file_rows_) row.line->clear();
        updating_ = false;
        return;
    }
    const core::GenerationParams& p = shot->params;
    const QString prompt = QString::fromStdString(p.prompt);
    if (prompt_->toPlainText() != prompt) prompt_->setPlainText(prompt);
    const QString negative = QString::fromStdString(p.negative_prompt);
    if (negative_->toPlainText() != negative) negative_->setPlainText(negative);
    seed_->setText(QString::number(p.seed));
    // A shot may name a model by alias ("default") or one that is not installed: show it as written.
    const QString model = QString::fromStdString(p.model);
    if (model_->findText(model) < 0) model_->addItem(model);
    model_->setCurrentIndex(model_->findText(model));
    const QString sampler = QString::fromStdString(p.sampler);
    if (sampler_->findText(sampler) < 0) sampler_->addItem(sampler);
    sampler_->setCurrentIndex(sampler_->findText(sampler));
    steps_->setValue(p.steps);
    guidance_->setValue(p.guidance);
    shift_->setValue(p.shift);
    int size_index = size_->findData(QSize(p.width, p.height));
    if (size_index < 0) {
        size_->addItem(size_text(p.width, p.height), QSize(p.width, p.height));
        size_index = size_->count() - 1;
    }
    size_->setCurrentIndex(size_index);
    frames_->setValue(p.frames);
    const QString rate = QString::fromStdString(core::to_string(p.fps));
    int rate_index = fps_->findText(rate);
    if (rate_index < 0) {
        fps_->addItem(rate);
        rate_index = fps_->count() - 1;
    }
    fps_->setCurrentIndex(rate_index);
    int aspect_index = aspect_->findText(QString::fromLatin1(kCustomAspect));
    const QSize base = model_base_size();
    for (const QString& preset : aspectPresets())
        if (aspectSize(preset, base) == QSize(p.width, p.height)) aspect_index = aspect_->findText(preset);
    aspect_->setCurrentIndex(aspect_index);
    const auto& c = p.conditioning;
    // Rebuilt only when the references changed, so a row selected for Remove survives other edits.
    QStringList shown;
    for (int i = 0; i < references_->count(); ++i) shown << references_->item(i)->toolTip();
    QStringList wanted;
    for (const std::string& r : c.references) wanted << QString::fromStdString(r);
    if (shown != wanted) {
        references_->clear();
        for (const QString& r : wanted) {
            auto* item = new QListWidgetItem(QFileInfo(r).fileName(), references_);
            item->setToolTip(r);
        }
    }
    for (size_t i = 0; i < file_rows_.size(); ++i)
        file_rows_[i].line->setText(QString::fromStdString(c.*kFileFields[i].member));
    updating_ = false;
}

bool ShotInspector::seedLocked() const { return seed_lock_->isChecked(); }

void ShotInspector::focusPrompt() {
    prompt_->setFocus(Qt::OtherFocusReason);
    prompt_->selectAll();
}
void ShotInspector::setSeedLocked(bool locked) { seed_lock_->setChecked(locked); }

QSize ShotInspector::model_base_size() const {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot) return {64, 64};
    auto it = model_sizes_.find(QString::fromStdString(shot->params.model));
    if (it != model_sizes_.end() && it->second.isValid()) return it->second;
    return {shot->params.width, shot->params.height};
}

bool ShotInspector::applyAspect(const QString& preset) {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot || !aspectPresets().contains(preset)) return false;
    const QSize size = aspectSize(preset, model_base_size());
    core::GenerationParams p = shot->params;
    p.width = size.width();
    p.height = size.height();
    if (p == shot->params) return true;
    auto result = document_->push(core::make_set_shot_params(shot_id_, std::move(p)));
    if (!result) emit editFailed(QString::fromStdString(result.message()));
    return result.ok();
}

bool ShotInspector::commit_conditioning(const std::string& what, core::Conditioning conditioning) {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot) return false;
    core::GenerationParams p = shot->params;
    p.conditioning = std::move(conditioning);
    if (p == shot->params) return true;
    auto result = document_->push(core::make_set_shot_params(shot_id_, std::move(p)));
    if (!result)
        emit editFailed(tr("cannot set %1: %2")
                            .arg(QString::fromStdString(what), QString::fromStdString(result.message())));
    return result.ok();
}

bool ShotInspector::addReferenceFiles(const QStringList& files) {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot || files.isEmpty()) return false;
    core::Conditioning c = shot->params.conditioning;
    for (const QString& file : files) {
        const QFileInfo info(file);
        if (!info.isFile()) {
            emit editFailed(tr("reference image %1 does not exist").arg(file));
            return false;
        }
        const std::string ref =
            document_->media_reference(std::filesystem::path(info.absoluteFilePath().toStdString()));
        if (std::find(c.references.begin(), c.references.end(), ref) == c.references.end())
            c.references.push_back(ref);
    }
    return commit_conditioning("reference images", std::move(c));
}

bool ShotInspector::removeReference(int row) {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot || row < 0 || row >= static_cast<int>(shot->params.conditioning.references.size()))
        return false;
    core::Conditioning c = shot->params.conditioning;
    c.references.erase(c.references.begin() + row);
    return commit_conditioning("reference images", std::move(c));
}

bool ShotInspector::setConditioningFile(FileField field, const QString& file) {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot) return false;
    const auto& spec = kFileFields[static_cast<size_t>(field)];
    core::Conditioning c = shot->params.conditioning;
    std::string& target = c.*spec.member;
    if (file.isEmpty()) {
        target.clear();
    } else {
        const QFileInfo info(file);
        if (!info.isFile()) {
            emit editFailed(tr("%1 %2 does not exist: pick an existing file").arg(tr(spec.what), file));
            return false;
        }
        target = document_->media_reference(std::filesystem::path(info.absoluteFilePath().toStdString()));
    }
    return commit_conditioning(spec.what, std::move(c));
}

void ShotInspector::dragEnterEvent(QDragEnterEvent* event) {
    if (!shot_id_.empty() && event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ShotInspector::dropEvent(QDropEvent* event) {
    QStringList files;
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile()) files << url.toLocalFile();
    if (files.isEmpty()) return;
    dropFiles(files, event->position().toPoint());
    event->acceptProposedAction();
}

bool ShotInspector::dropFiles(const QStringList& files, const QPoint& pos) {
    if (files.isEmpty()) return false;
    QWidget* target = childAt(pos);
    for (size_t i = 0; i < file_rows_.size(); ++i)
        if (target == file_rows_[i].line)
            return setConditioningFile(static_cast<FileField>(i), files.front());
    return addReferenceFiles(files);
}

void ShotInspector::randomiseSeed() {
    if (shot_id_.empty()) return;
    // Seeds stay below 2^53 so they survive any JSON reader as exact integers.
    const quint64 seed = QRandomGenerator::global()->generate64() & ((quint64{1} << 53) - 1);
    seed_->setText(QString::number(seed));
    commit();
}

void ShotInspector::commit() {
    if (updating_) return;
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot) return;
    core::GenerationParams p = shot->params;
    p.prompt = prompt_->toPlainText().toStdString();
    p.negative_prompt = negative_->toPlainText().toStdString();
    bool seed_ok = false;
    const quint64 seed = seed_->text().toULongLong(&seed_ok);
    if (seed_ok) p.seed = seed;
    if (!model_->currentText().isEmpty()) p.model = model_->currentText().toStdString();
    if (!sampler_->currentText().isEmpty()) p.sampler = sampler_->currentText().toStdString();
    p.steps = steps_->value();
    p.guidance = guidance_->value();
    p.shift = shift_->value();
    const QSize size = size_->currentData().toSize();
    if (size.isValid()) {
        p.width = size.width();
        p.height = size.height();
    }
    p.frames = frames_->value();
    auto rate = core::parse_frame_rate(fps_->currentText().trimmed().toStdString());
    if (rate) {
        p.fps = *rate;
    } else {
        emit editFailed(QString::fromStdString(rate.message()));
    }
    if (p == shot->params) return;
    auto result = document_->push(core::make_set_shot_params(shot_id_, std::move(p), /*merge=*/true));
    if (!result) {
        emit editFailed(QString::fromStdString(result.message()));
        refresh();
    }
}

}  // namespace fl::studio
